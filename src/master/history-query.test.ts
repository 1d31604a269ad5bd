import { describe, expect, it } from 'vitest';
import { parseHistoryQuery, parseSince } from './history-query.js';

const NOW = Date.UTC(2024, 4, 10, 12, 0, 0);

describe('history query', () => {
  it('reads every parameter; limit defaults to 100', () => {
    expect(parseHistoryQuery({}, NOW)).toEqual({ limit: 100 });
    expect(parseHistoryQuery({ agent: '10.0.0.1', subnet: '192.168.3.0/24', since: '2024-05-01T00:00:00Z', limit: '5' }, NOW)).toEqual({
      agent: '10.0.0.1',
      subnet: '192.168.3.0/24',
      since: '2024-05-01T00:00:00.000Z',
      limit: 5,
    });
    expect(parseHistoryQuery({ subnet: '192.168.3.7' }, NOW).subnet).toBe('192.168.3.7');
  });

  it('since: an ISO time or a duration back from now', () => {
    expect(parseSince('24h', NOW)).toBe('2024-05-09T12:00:00.000Z');
    expect(parseSince('7d', NOW)).toBe('2024-05-03T12:00:00.000Z');
    expect(parseSince('2024-05-01', NOW)).toBe('2024-05-01T00:00:00.000Z');
  });

  it('names the parameter, its value and the fix', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ agent: 'node-1' }, 'query parameter agent="node-1" is no IP address: give the agent\'s IP'],
      [{ subnet: '192.168.3.0/33' }, 'query parameter subnet="192.168.3.0/33" is no CIDR or IP address'],
      [{ since: 'yesterday' }, 'query parameter since="yesterday" is no time: give an ISO-8601 time'],
      [{ limit: '0' }, 'query parameter limit="0" is not a whole number from 1 to 10000'],
      [{ limit: '50000' }, 'query parameter limit="50000" is not a whole number from 1 to 10000'],
      [{ agent: ['10.0.0.1', '10.0.0.2'] }, 'query parameter agent=["10.0.0.1","10.0.0.2"] is given more than once'],
    ];
    for (const [raw, text] of cases) expect(() => parseHistoryQuery(raw, NOW)).toThrow(text);
  });
});
