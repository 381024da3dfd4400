/**
 * Rule usage over the life of a dashboard process: a fixed-size ring of
 * samples per target group and family, so memory stays bounded however long
 * it runs. The Targets page draws each series as a small chart.
 */
import type { CapacityLine } from '../core/model.js';

export interface UsageSample {
  /** Epoch milliseconds. */
  at: number;
  used: number;
  quota: number;
}

/** `target group family`: one series per capacity line. */
export function usageKey(line: Pick<CapacityLine, 'target' | 'groupId' | 'family'>): string {
  return `${line.target} ${line.groupId} ${line.family}`;
}

export class UsageHistory {
  private readonly series = new Map<string, UsageSample[]>();

  constructor(readonly capacity = 120) {}

  /** Records one sample per line; the oldest sample of a full series is dropped. */
  record(at: number, lines: readonly CapacityLine[]): void {
    for (const line of lines) {
      const k = usageKey(line);
      const list = this.series.get(k) ?? [];
      list.push({ at, used: line.before, quota: line.quota });
      if (list.length > this.capacity) list.splice(0, list.length - this.capacity);
      this.series.set(k, list);
    }
  }

  /** Samples of one series, oldest first (a copy). */
  get(key: string): UsageSample[] {
    return [...(this.series.get(key) ?? [])];
  }
}

/**
 * Points for an SVG polyline of the samples in a `width` × `height` box,
 * scaled to the quota (so a full group touches the top), oldest on the left.
 */
export function sparklinePoints(samples: readonly UsageSample[], width: number, height: number): string {
  if (samples.length === 0) return '';
  const top = Math.max(1, ...samples.map((s) => Math.max(s.quota, s.used)));
  const step = samples.length > 1 ? width / (samples.length - 1) : 0;
  return samples
    .map((s, i) => {
      const x = samples.length > 1 ? i * step : width;
      const y = height - (s.used / top) * height;
      return `${round(x)},${round(y)}`;
    })
    .join(' ');
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
