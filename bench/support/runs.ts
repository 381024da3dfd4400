/** What the micro-benchmarks share: a `--runs N` option, and the median of what they measured. */
import { parseArgs } from 'node:util';

/** The `--runs N` option of this process's arguments (whole, at least 1), or `fallback`. */
export function runsOption(fallback: number): number {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: String(fallback) } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number of at least 1, not "${values.runs}"`);
  return runs;
}

/** The middle value (the upper one of an even count), or NaN when there is none. */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
}
