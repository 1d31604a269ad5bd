import { describe, expect, it } from 'vitest';
import { checkContainerName } from './names.js';

describe('checkContainerName', () => {
  it.each(['web-1', 'a', 'db_2.primary', 'X9'])('accepts %s', (name) => expect(checkContainerName(name)).toBe(name));
  it.each([
    ['an empty name', ''],
    ['a path', '../etc'],
    ['a leading dash (an option to ip)', '-n'],
    ['a space', 'a b'],
    ['64 characters', 'a'.repeat(64)],
  ])('rejects %s, naming the value and the rule', (_d, name) => {
    expect(() => checkContainerName(name)).toThrow(`container name ${JSON.stringify(name)} is invalid: use 1-63 letters`);
  });
});
