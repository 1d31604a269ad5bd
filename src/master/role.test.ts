import { describe, expect, it } from 'vitest';
import { standbyMessage } from './role.js';

describe('standbyMessage', () => {
  const view = (leader?: string, trouble?: string) => ({ self: 'http://10.0.0.2:5050', leader: () => leader, trouble: () => trouble });

  it('names the leader so a client knows where to go', () => {
    expect(standbyMessage(view('http://10.0.0.1:5050'))).toBe(
      'this master (http://10.0.0.2:5050) is a standby; the leader is http://10.0.0.1:5050: send requests there (agents given every master in --master move on by themselves)',
    );
  });

  it('says why there is no leader, or that an election is under way', () => {
    expect(standbyMessage(view(undefined, 'cannot open the store in etcd at http://127.0.0.1:2379'))).toBe(
      'no master is the leader right now (cannot open the store in etcd at http://127.0.0.1:2379): retry in a few seconds',
    );
    expect(standbyMessage(view())).toContain('(an election is under way)');
    // Its own URL announced as leader means it has not taken over yet.
    expect(standbyMessage(view('http://10.0.0.2:5050'))).toContain('no master is the leader right now');
  });
});
