/** Per-region, per-action call counters, read through the control API and by benchmarks. */
export interface ActionCount {
  calls: number;
  ok: number;
  failed: number;
  throttled: number;
  /** Answers the fault injector made up (errors, drops). */
  faulted: number;
}

export class Counters {
  private readonly byKey = new Map<string, ActionCount>();

  private entry(region: string, action: string): ActionCount {
    const key = `${region}\u0000${action}`;
    let c = this.byKey.get(key);
    if (!c) {
      c = { calls: 0, ok: 0, failed: 0, throttled: 0, faulted: 0 };
      this.byKey.set(key, c);
    }
    return c;
  }

  record(region: string, action: string, outcome: 'ok' | 'failed' | 'throttled' | 'faulted'): void {
    const c = this.entry(region, action);
    c.calls++;
    c[outcome]++;
  }

  reset(): void {
    this.byKey.clear();
  }

  /** `{ region: { action: counts } }`, sorted for stable output. */
  snapshot(): Record<string, Record<string, ActionCount>> {
    const out: Record<string, Record<string, ActionCount>> = {};
    for (const key of [...this.byKey.keys()].sort()) {
      const [region, action] = key.split('\u0000') as [string, string];
      (out[region] ??= {})[action] = { ...this.byKey.get(key)! };
    }
    return out;
  }
}
