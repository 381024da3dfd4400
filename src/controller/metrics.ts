import type { CapacityLine } from '../core/model.js';
import type { ControllerPassResult } from './pass.js';
import type { PassSummary } from './pass-summary.js';
import { LabelledValues, renderExposition, type MetricFamily, type Sample } from './prometheus.js';

/** One entry of the adapter's call statistics (`Ec2Adapter.clients.stats.entries()`). */
export interface CallStat {
  region: string;
  action: string;
  outcome: string;
  count: number;
}

/** Calls that waited for a token of the client's own pacing (`Ec2Adapter.clients.stats.pacing()`). */
export interface PacingStat {
  region: string;
  action: string;
  waits: number;
  seconds: number;
}

interface LastPass {
  finishedAtMs: number;
  durationMs: number;
  ok: boolean;
}

/**
 * What the controller daemon exposes on /metrics. Counters accumulate over
 * the life of the process; gauges describe the world as the last pass that
 * got as far as planning saw it, so a failing pass does not blank the
 * capacity graphs.
 */
export class ControllerMetrics {
  private readonly passes = new LabelledValues();
  private readonly added = new LabelledValues();
  private readonly revoked = new LabelledValues();
  private readonly stale = new LabelledValues();
  private capacity: CapacityLine[] = [];
  private converged = false;
  private blocked: Sample[] = [];
  private kept: Sample[] = [];
  private foreign: Sample[] = [];
  private regions: Sample[] = [];
  private last?: LastPass;
  private phases: Sample[] = [];
  private lastSuccessAtMs?: number;

  /** Records a pass that ran to the end (it may still have problems). */
  recordPass(result: ControllerPassResult, summary: PassSummary, timing: { startedAtMs: number; finishedAtMs: number }): void {
    this.finish(summary.ok, timing);
    for (const c of result.changes) {
      if (c.action === 'authorize') this.added.add({ target: c.target });
      else this.revoked.add({ target: c.target, reason: c.reason });
    }
    for (const batch of result.plan.revoke) for (const r of batch.items) this.stale.add({ target: r.target, reason: r.reason });
    const plan = result.plan;
    this.capacity = result.lastPlan.capacity;
    this.converged = result.converged;
    this.blocked = tally(result.lastPlan.blocked.map((b) => ({ target: b.target, family: b.family })));
    this.kept = tally(plan.kept.map((k) => ({ target: k.target, reason: k.reason })));
    this.foreign = tally(plan.foreign.map((f) => ({ target: f.target, group: f.groupId, open_to_world: String(f.dangerous) })));
    this.regions = result.inventory.regions.map((r) => ({ labels: { region: r.region }, value: r.status === 'complete' ? 1 : 0 }));
    const { observeMs, planMs, applyMs } = result.timings;
    this.phases = Object.entries({ inventory: result.inventoryMs, rules: observeMs, plan: planMs, apply: applyMs }).map(([phase, ms]) => ({ labels: { phase }, value: ms / 1000 }));
  }

  /** Records a pass that could not run to the end (AWS unreachable, permissions, a bug). */
  recordFailure(timing: { startedAtMs: number; finishedAtMs: number }): void {
    this.finish(false, timing);
  }

  /** When the last pass without problems finished, if any did. */
  get lastSuccessAt(): number | undefined {
    return this.lastSuccessAtMs;
  }

  get lastPass(): Readonly<LastPass> | undefined {
    return this.last;
  }

  private finish(ok: boolean, timing: { startedAtMs: number; finishedAtMs: number }): void {
    this.passes.add({ outcome: ok ? 'success' : 'failure' });
    this.last = { finishedAtMs: timing.finishedAtMs, durationMs: timing.finishedAtMs - timing.startedAtMs, ok };
    if (ok) this.lastSuccessAtMs = timing.finishedAtMs;
  }

  /** The exposition text at `nowMs`, with the EC2 call counts and pacing waits of the adapter. */
  render(nowMs: number, calls: readonly CallStat[] = [], pacing: readonly PacingStat[] = []): string {
    // Capacity as it stands after the pass: a converged pass landed its plan; otherwise trust only what was observed.
    const used = (l: CapacityLine) => (this.converged ? l.after : l.before);
    const perGroup = (value: (l: CapacityLine) => number): Sample[] =>
      this.capacity.map((l) => ({ labels: { target: l.target, group: l.groupId, family: l.family }, value: value(l) }));
    const byCall = (outcome?: string): Sample[] => {
      const values = new LabelledValues();
      for (const c of calls) if (!outcome || c.outcome === outcome) values.add({ region: c.region, action: c.action }, c.count);
      return values.samples();
    };
    const families: MetricFamily[] = [
      { name: 'sgsync_managed_rules', type: 'gauge', help: 'Inbound rules this deployment manages, per target group and family, after the last pass.', samples: perGroup((l) => l.managed + used(l) - l.before) },
      { name: 'sgsync_capacity_used_rules', type: 'gauge', help: 'Inbound rules in the group (managed and foreign), per family, after the last pass.', samples: perGroup(used) },
      { name: 'sgsync_capacity_quota_rules', type: 'gauge', help: 'Inbound rules allowed per group and family (the configured quota).', samples: perGroup((l) => l.quota) },
      { name: 'sgsync_rules_added_total', type: 'counter', help: 'Rules authorized.', samples: this.added.samples() },
      { name: 'sgsync_rules_revoked_total', type: 'counter', help: 'Rules revoked, by reason.', samples: this.revoked.samples() },
      { name: 'sgsync_stale_rules_found_total', type: 'counter', help: 'Stale rules found by passes (planned for revocation), by reason.', samples: this.stale.samples() },
      { name: 'sgsync_rules_blocked', type: 'gauge', help: 'Rules that fit in no group of their pool at the last pass.', samples: this.blocked },
      { name: 'sgsync_rules_kept', type: 'gauge', help: 'Stale-looking rules the last pass kept, by reason (grace, region-unavailable, blast-radius, replacement-blocked).', samples: this.kept },
      { name: 'sgsync_foreign_rules', type: 'gauge', help: 'Rules in target groups that this deployment does not manage.', samples: this.foreign },
      { name: 'sgsync_inventory_region_up', type: 'gauge', help: '1 when the region\'s inventory in the last pass that got as far as planning was complete, 0 when it failed (a pass that failed as a whole leaves it as it was).', samples: this.regions },
      { name: 'sgsync_aws_api_calls_total', type: 'counter', help: 'EC2 API attempts (retries included), by region and action.', samples: byCall() },
      {
        name: 'sgsync_aws_api_errors_total',
        type: 'counter',
        help: 'EC2 API attempts that failed other than by throttling or by finding the change already made.',
        samples: byCall('error'),
      },
      {
        name: 'sgsync_aws_api_already_done_total',
        type: 'counter',
        help: 'EC2 API attempts answered that the change was already made (a rule to authorize exists, one to revoke is gone): races, taken as success.',
        samples: byCall('already-done'),
      },
      {
        name: 'sgsync_aws_api_cancelled_total',
        type: 'counter',
        help: 'EC2 API attempts sgsync abandoned itself: listings a pass no longer needed once another of its reads had failed.',
        samples: byCall('cancelled'),
      },
      { name: 'sgsync_aws_api_throttles_total', type: 'counter', help: 'EC2 API attempts throttled (RequestLimitExceeded).', samples: byCall('throttled') },
      {
        name: 'sgsync_aws_api_pacing_waits_total',
        type: 'counter',
        help: "EC2 calls that waited for a token of sgsync's own pacing (aws.pacing), by region and action.",
        samples: pacing.map((p) => ({ labels: { region: p.region, action: p.action }, value: p.waits })),
      },
      {
        name: 'sgsync_aws_api_pacing_seconds_total',
        type: 'counter',
        help: 'Seconds EC2 calls waited for a token of sgsync\'s own pacing, by region and action.',
        samples: pacing.map((p) => ({ labels: { region: p.region, action: p.action }, value: p.seconds })),
      },
      { name: 'sgsync_passes_total', type: 'counter', help: 'Controller passes, by outcome.', samples: this.passes.samples() },
      { name: 'sgsync_last_pass_success', type: 'gauge', help: '1 when the last pass succeeded without problems.', samples: this.last ? [{ value: this.last.ok ? 1 : 0 }] : [] },
      { name: 'sgsync_pass_duration_seconds', type: 'gauge', help: 'Wall time of the last pass.', samples: this.last ? [{ value: this.last.durationMs / 1000 }] : [] },
      { name: 'sgsync_pass_phase_seconds', type: 'gauge', help: 'Wall time of each phase of the last pass that ran to the end (inventory, rules, plan, apply).', samples: this.phases },
      { name: 'sgsync_last_success_timestamp_seconds', type: 'gauge', help: 'Unix time the last successful pass finished.', samples: this.lastSuccessAtMs === undefined ? [] : [{ value: this.lastSuccessAtMs / 1000 }] },
      {
        name: 'sgsync_seconds_since_last_success',
        type: 'gauge',
        help: 'Seconds since the last successful pass finished (+Inf before the first).',
        samples: [{ value: this.lastSuccessAtMs === undefined ? Infinity : Math.max(0, (nowMs - this.lastSuccessAtMs) / 1000) }],
      },
    ];
    return renderExposition(families);
  }
}

function tally(items: readonly Record<string, string>[]): Sample[] {
  const values = new LabelledValues();
  for (const labels of items) values.add(labels);
  return values.samples();
}
