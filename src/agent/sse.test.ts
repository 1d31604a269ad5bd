import { describe, expect, it } from 'vitest';
import { backoffDelay, SseParser } from './sse.js';

describe('SseParser', () => {
  it('assembles events split across chunks and skips ping comments', () => {
    const p = new SseParser();
    expect(p.feed('id: 7\nevent: put\nda')).toEqual([]);
    expect(p.feed('ta: {"a":1}\n\n: ping\n\nid: 8\r\nevent: delete\r\ndata: {"b":2}\r\n\r\n')).toEqual([
      { id: '7', event: 'put', data: '{"a":1}' },
      { id: '8', event: 'delete', data: '{"b":2}' },
    ]);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially, is capped, and keeps at least half of its ceiling', () => {
    expect(backoffDelay(0, () => 0)).toBe(100);
    expect(backoffDelay(0, () => 1)).toBe(200);
    expect(backoffDelay(3, () => 1)).toBe(1600);
    expect(backoffDelay(50, () => 1)).toBe(5000);
    expect(backoffDelay(50, () => 0)).toBe(2500);
  });
});
