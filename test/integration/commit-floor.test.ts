import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { measureRawSqliteCommit } from '../../bench/commit-floor.js';

const dir = mkdtempSync(join(tmpdir(), 'vxnet-floor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('measures single-row commits and leaves no files behind', () => {
  const floor = measureRawSqliteCommit(dir, 20);
  expect(floor.perSecond).toBeGreaterThan(0);
  expect(floor.p50Ms).toBeGreaterThan(0);
  expect(floor.p99Ms).toBeGreaterThanOrEqual(floor.p50Ms);
  expect(readdirSync(dir)).toEqual([]);
});

it('refuses a commit count that is not a positive whole number', () => {
  expect(() => measureRawSqliteCommit(dir, 0)).toThrow('n is 0: pass a positive whole number of commits');
});
