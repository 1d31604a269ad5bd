import { describe, expect, it } from 'vitest';
import { retransIsSet } from './host.js';

describe('retransIsSet', () => {
  it('takes the value the kernel reads back after rounding up to whole jiffies', () => {
    expect(retransIsSet('10\n', 10)).toBe(true); // HZ=100 or 1000
    expect(retransIsSet('12\n', 10)).toBe(true); // HZ=250
  });

  it('writes again when someone set another value', () => {
    expect(retransIsSet('1000\n', 10)).toBe(false); // the kernel's default
    expect(retransIsSet('8\n', 10)).toBe(false);
    expect(retransIsSet('20\n', 10)).toBe(false);
    expect(retransIsSet('', 10)).toBe(false);
  });
});
