/**
 * The sandbox's control API, as the benchmarks use it: its call counters
 * are the count of record (what reached the server, whatever a client
 * believes it sent).
 */

import type { ActionCount } from '../../src/sandbox/counters.js';

export type { ActionCount };

/** `{ region: { action: counts } }`, as `GET /_sandbox/counters` answers. */
export type Counters = Record<string, Record<string, ActionCount>>;

/** One control-API request; throws with the status and body when it is refused. */
export async function control<T>(url: string, path: string, method = 'GET', body?: unknown): Promise<T> {
  const res = await fetch(`${url}/_sandbox/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`sandbox control ${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** A quiet interval before a measurement: every bucket full again, counters zeroed. */
export async function quiet(url: string, scale: number): Promise<void> {
  await control(url, 'throttle', 'PUT', { mode: 'aws', scale });
  await control(url, 'counters/reset', 'POST', {});
}

/** Counts summed over regions, per action. */
export function byAction(counters: Counters): Record<string, ActionCount> {
  const out: Record<string, ActionCount> = {};
  for (const actions of Object.values(counters)) {
    for (const [action, c] of Object.entries(actions)) {
      const e = (out[action] ??= { calls: 0, ok: 0, failed: 0, throttled: 0, faulted: 0 });
      e.calls += c.calls;
      e.ok += c.ok;
      e.failed += c.failed;
      e.throttled += c.throttled;
      e.faulted += c.faulted;
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
