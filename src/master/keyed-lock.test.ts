import { describe, expect, it } from 'vitest';
import { KeyedLock } from './keyed-lock.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('KeyedLock', () => {
  it('never interleaves two pieces of work on the same key', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const job = (name: string) => async () => {
      log.push(`${name} start`);
      await tick();
      log.push(`${name} end`);
    };
    await Promise.all([lock.run('a', job('1')), lock.run('a', job('2'))]);
    expect(log).toEqual(['1 start', '1 end', '2 start', '2 end']);
  });

  it('runs different keys concurrently', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const job = (name: string) => async () => {
      log.push(`${name} start`);
      await tick();
      log.push(`${name} end`);
    };
    await Promise.all([lock.run('a', job('a')), lock.run('b', job('b'))]);
    expect(log.slice(0, 2)).toEqual(['a start', 'b start']);
  });

  it('runAll waits for every holder of any of its keys, and later callers wait for it', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const job = (name: string) => async () => {
      log.push(`${name} start`);
      await tick();
      log.push(`${name} end`);
    };
    await Promise.all([lock.run('b', job('one')), lock.runAll(['a', 'b', 'c'], job('all')), lock.run('c', job('two'))]);
    expect(log).toEqual(['one start', 'one end', 'all start', 'all end', 'two start', 'two end']);
  });

  it('takes tens of thousands of keys at once without exhausting the stack', async () => {
    const lock = new KeyedLock();
    const keys = Array.from({ length: 50_000 }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    await expect(lock.runAll(keys, async () => 'done')).resolves.toBe('done');
    // Every key is free again afterwards.
    await expect(lock.run(keys[0]!, async () => 'again')).resolves.toBe('again');
  });

  it('releases the keys when the work throws', async () => {
    const lock = new KeyedLock();
    await expect(lock.runAll(['a', 'b'], async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(lock.run('a', async () => 'free')).resolves.toBe('free');
  });

  it('exclusive waits for every current holder and holds off later callers', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const job = (name: string) => async () => {
      log.push(`${name} start`);
      await tick();
      await tick();
      log.push(`${name} end`);
    };
    await Promise.all([
      lock.run('a', job('a')),
      lock.runAll(['b', 'c'], job('bc')),
      lock.exclusive(job('reload')),
      lock.run('a', job('a2')),
      lock.run('d', job('d')),
    ]);
    const at = (entry: string) => log.indexOf(entry);
    expect(at('reload start')).toBeGreaterThan(at('a end'));
    expect(at('reload start')).toBeGreaterThan(at('bc end'));
    expect(at('reload end')).toBe(at('reload start') + 1);
    // A key nobody held before is held off too.
    expect(at('d start')).toBeGreaterThan(at('reload end'));
    expect(at('a2 start')).toBeGreaterThan(at('reload end'));
  });

  it('runs exclusive sections one after another and frees the lock when one throws', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const failing = lock.exclusive(async () => {
      log.push('one start');
      await tick();
      log.push('one end');
      throw new Error('refused');
    });
    const second = lock.exclusive(async () => {
      log.push('two');
    });
    await expect(failing).rejects.toThrow('refused');
    await second;
    expect(log).toEqual(['one start', 'one end', 'two']);
    await expect(lock.run('a', async () => 'free')).resolves.toBe('free');
  });
});
