import { describe, expect, it } from 'vitest';
import { chainRules, forwardRules, forwardScript } from './forward.js';

const listing = (...rules: string[]): string => ['-N DOCKER-USER', ...rules.map((r) => `-A DOCKER-USER ${r}`), ''].join('\n');
const desired = forwardRules(['44.128.0.0/16']);

describe('DOCKER-USER rules', () => {
  it("accepts traffic from and to each overlay subnet, marked as vxnet's", () => {
    expect(desired).toEqual([
      '-s 44.128.0.0/16 -m comment --comment vxnet -j ACCEPT',
      '-d 44.128.0.0/16 -m comment --comment vxnet -j ACCEPT',
    ]);
  });

  it('reads the chain as iptables -S prints it', () => {
    expect(chainRules(listing('-j RETURN'))).toEqual(['-j RETURN']);
  });

  it('inserts the rules at the top of a chain Docker just made', () => {
    expect(forwardScript(listing('-j RETURN'), desired)).toBe(
      ['*filter', `-I DOCKER-USER 1 ${desired[0]}`, `-I DOCKER-USER 2 ${desired[1]}`, 'COMMIT', ''].join('\n'),
    );
  });

  it('does nothing when the chain starts with exactly them', () => {
    expect(forwardScript(listing(...desired, '-s 10.9.0.0/16 -j DROP', '-j RETURN'), desired)).toBeUndefined();
  });

  it("moves them back in front of a rule a user put first, and drops stale ones of ours, leaving the user's", () => {
    const stale = '-s 9.0.0.0/8 -m comment --comment vxnet -j ACCEPT';
    const script = forwardScript(listing('-s 10.9.0.0/16 -j DROP', desired[0]!, stale, '-j RETURN'), desired)!;
    expect(script.split('\n')).toEqual([
      '*filter',
      `-D DOCKER-USER ${desired[0]}`,
      `-D DOCKER-USER ${stale}`,
      `-I DOCKER-USER 1 ${desired[0]}`,
      `-I DOCKER-USER 2 ${desired[1]}`,
      'COMMIT',
      '',
    ]);
  });

  it('removes all of ours and nothing else for cleanup', () => {
    expect(
      forwardScript(listing(...desired, '-j RETURN'), [])!
        .split('\n')
        .filter((l) => l.startsWith('-')),
    ).toEqual(desired.map((r) => `-D DOCKER-USER ${r}`));
    expect(forwardScript(listing('-j RETURN'), [])).toBeUndefined();
  });
});
