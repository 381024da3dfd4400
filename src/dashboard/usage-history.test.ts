import { describe, expect, it } from 'vitest';
import type { CapacityLine } from '../core/model.js';
import { sparklinePoints, UsageHistory, usageKey } from './usage-history.js';

const line = (before: number): CapacityLine => ({ target: 'api', groupId: 'sg-1', family: 'ipv4', quota: 10, before, after: before, managed: before, foreign: 0 });

describe('usage history', () => {
  it('keeps only the newest samples once the ring is full', () => {
    const h = new UsageHistory(3);
    [1, 2, 3, 4, 5].forEach((n, i) => h.record(i * 1000, [line(n)]));
    expect(h.get(usageKey(line(0))).map((s) => s.used)).toEqual([3, 4, 5]);
  });

  it('has no samples for a group it never saw', () => {
    expect(new UsageHistory().get('api sg-9 ipv4')).toEqual([]);
  });

  it('draws a full group at the top and an empty one at the bottom, oldest on the left', () => {
    const samples = [{ at: 0, used: 0, quota: 10 }, { at: 1, used: 5, quota: 10 }, { at: 2, used: 10, quota: 10 }];
    expect(sparklinePoints(samples, 100, 20)).toBe('0,20 50,10 100,0');
  });

  it('scales to the usage when it ever went over the quota', () => {
    expect(sparklinePoints([{ at: 0, used: 20, quota: 10 }, { at: 1, used: 10, quota: 10 }], 10, 10)).toBe('0,0 10,5');
  });
});
