import { describe, expect, it } from 'vitest';
import { ParseTurns } from './parse-turns.js';

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ParseTurns', () => {
  it('runs one read at a time, in the order they asked', async () => {
    const turns = new ParseTurns();
    const log: string[] = [];
    const read = (name: string) =>
      turns.run(async () => {
        log.push(`${name} start`);
        // A read that is not over in one microtask: another may not start meanwhile.
        await immediate();
        log.push(`${name} end`);
        return name;
      });
    expect(await Promise.all([read('a'), read('b'), read('c')])).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
  });

  it('lets what the event loop holds run between two reads', async () => {
    const turns = new ParseTurns();
    const log: string[] = [];
    const first = turns.run(() => {
      log.push('first');
      // Stands for a request that arrived while the first answer was read.
      setImmediate(() => log.push('waiting work'));
      return Promise.resolve();
    });
    const second = turns.run(() => Promise.resolve(void log.push('second')));
    await Promise.all([first, second]);
    expect(log).toEqual(['first', 'waiting work', 'second']);
  });

  it('does not read in the turn it was asked in', async () => {
    const turns = new ParseTurns();
    let read = false;
    const done = turns.run(() => Promise.resolve(void (read = true)));
    await Promise.resolve();
    expect(read).toBe(false);
    await done;
    expect(read).toBe(true);
  });

  it('gives the turn on when a read fails', async () => {
    const turns = new ParseTurns();
    const failed = turns.run(() => Promise.reject(new Error('not XML')));
    const next = turns.run(() => Promise.resolve('read'));
    await expect(failed).rejects.toThrow('not XML');
    expect(await next).toBe('read');
  });
});
