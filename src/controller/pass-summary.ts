import { changeCounts } from '../core/reconcile.js';
import { haltedText } from '../core/safety.js';
import type { ControllerPassResult } from './pass.js';

/** What one pass did and whether it needs attention, in a few numbers a log line or a Lambda result can carry. */
export interface PassSummary {
  passId: string;
  /** Nothing failed: every region listed, every group changed, no limit hit. */
  ok: boolean;
  /** Why the pass is not ok, one sentence each. */
  problems: string[];
  added: number;
  revoked: number;
  /** Rules that did not fit in their pool. */
  blocked: number;
  /** Stale-looking rules kept, by reason (grace, region-unavailable, blast-radius, replacement-blocked). */
  kept: Record<string, number>;
  regions: { region: string; status: 'complete' | 'failed'; instances: number; reason?: string }[];
  errors: { code: string; message: string }[];
  converged: boolean;
  /** Why the pass stopped before it was done (a time limit, a stop signal): the next pass finishes the work. */
  stopped?: string;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

/**
 * What a pass that stopped before it was done says, after "pass": why, what
 * became of the calls under way, and who finishes the work (`next`: "the
 * next pass", or the Lambda's "the next invocation").
 */
export function stoppedText(reason: string, next = 'the next pass'): string {
  return `cut short: ${reason}. The changes under way were finished and logged, no further change was started; ${next} finishes the work`;
}

/**
 * Sums up a controller pass. A pass that ran to the end can still need
 * attention: a region whose listing failed keeps its members' rules (safety
 * rule 2), a blast-radius halt revoked nothing (rule 4), and a group whose
 * change AWS refused is left as it was. A pass cut short (a time limit, a
 * stop signal) left work undone. Each of those is a problem here, so that
 * health checks and alerts see it; blocked rules are reported but are a
 * capacity fact, not a failure of the pass. `next` names who finishes a
 * pass cut short (see `stoppedText`).
 */
export function summarizePass(result: ControllerPassResult, next?: string): PassSummary {
  const problems: string[] = [];
  if (result.stopped !== undefined) problems.push(`pass ${stoppedText(result.stopped, next)}`);
  for (const r of result.inventory.regions) if (r.status === 'failed') problems.push(`inventory of ${r.region} failed: ${r.reason ?? 'unknown reason'}`);
  if (result.plan.halted) problems.push(haltedText(result.plan.halted));
  for (const e of result.errors) problems.push(`${e.code}: ${e.message}`);
  return {
    passId: result.passId,
    ok: problems.length === 0,
    problems,
    ...changeCounts(result.changes),
    blocked: result.lastPlan.blocked.length,
    kept: countBy(result.plan.kept, (k) => k.reason),
    regions: result.inventory.regions.map(({ region, status, instances, reason }) => ({ region, status, instances, ...(reason ? { reason } : {}) })),
    errors: result.errors.map((e) => ({ code: e.code, message: e.message })),
    converged: result.converged,
    ...(result.stopped !== undefined ? { stopped: result.stopped } : {}),
  };
}
