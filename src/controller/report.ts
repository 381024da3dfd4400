/**
 * The report of a controller pass, as data: per target and group, what is
 * (or would be) added and revoked and why, what was kept and why, what could
 * not be placed, the rules sgsync does not own, and capacity before and
 * after. `sgsync plan` and `sgsync reconcile` print it as tables or JSON; the
 * same shape serves anything else that wants to show a pass.
 */
import type { SgsyncError } from '../core/errors.js';
import type { BlockedReason, CapacityLine, Family, KeptRule, Plan, PortSpec, RetiredGroupLine, Target } from '../core/model.js';
import type { AppliedChange } from '../core/reconcile.js';
import type { RegionResult } from './inventory.js';
import { controllerPassWarnings, type ControllerPassResult } from './pass.js';

export type ReportKind = 'plan' | 'reconcile';

export interface AddLine { groupId: string; instanceId: string; memberRegion: string; cidr: string; port?: PortSpec; ruleId?: string }
export interface RevokeLine { groupId: string; ruleId: string; cidr?: string; port?: PortSpec; instanceId?: string; memberRegion?: string; reason: string }
/** A kept rule as its target's report shows it (the target is the report's). */
export type KeptLine = Omit<KeptRule, 'target'>;
export interface BlockedLine { instanceId: string; memberRegion: string; cidr: string; family: Family; port: PortSpec; reason: BlockedReason }
export interface ForeignLine { groupId: string; ruleId: string; family: Family; protocol: string; fromPort: number; toPort: number; cidr?: string; description?: string; dangerous: boolean }
/** A retired group of the target: its rules before the pass and after (in `reconcile`, after the revokes that landed). */
export type RetiredReportLine = Pick<RetiredGroupLine, 'groupId' | 'rules' | 'left' | 'missing'>;
export interface CapacityReportLine { groupId: string; family: Family; quota: number; before: number; after: number; managed: number; foreign: number; missing?: true }

export interface TargetReport {
  name: string;
  region: string;
  /** In `plan`: what a reconcile would add. In `reconcile`: what was added. */
  add: AddLine[];
  revoke: RevokeLine[];
  kept: KeptLine[];
  blocked: BlockedLine[];
  /** Members that can never be admitted as they are (no usable address). */
  refused: { instanceId: string; memberRegion: string; reason: string; detail: string }[];
  foreign: ForeignLine[];
  capacity: CapacityReportLine[];
  /** Groups of the pool that do not exist: nothing is placed there (each is also among the report's errors). */
  missing: string[];
  /** The target's retired groups, when it has some: what is left to drain, or that one is empty. */
  retired?: RetiredReportLine[];
}

export interface PassReport {
  kind: ReportKind;
  passId: string;
  startedAt: string;
  deployment: string;
  /**
   * in-sync: nothing to do; changes-pending (plan); applied (reconcile); halted: the blast radius stopped every revoke;
   * incomplete: errors, a region that could not be listed (its members' rules were kept unchecked), or a pass cut short (`stopped`).
   */
  outcome: 'in-sync' | 'changes-pending' | 'applied' | 'halted' | 'incomplete';
  /** Why the pass stopped before it was done (a stop signal): the changes under way landed, no further one was started. */
  stopped?: string;
  summary: { add: number; revoke: number; kept: number; blocked: number; refused: number; foreign: number; dangerous: number; missing: number; regionsFailed: number; errors: number };
  halted?: { wouldRevoke: number; limit: number; managed: number; override: string };
  regions: RegionResult[];
  targets: TargetReport[];
  errors: { code: string; message: string; region?: string; groupId?: string; action?: string }[];
  warnings: string[];
  /** EC2 calls made, by action, when the driver counted them. */
  calls?: Record<string, number>;
  timings: PassTimings;
}

/** Milliseconds per phase: listing instances, reading the groups' rules (while listing), planning, changing rules (rounds summed). */
export interface PassTimings {
  inventoryMs: number;
  observeMs: number;
  planMs: number;
  applyMs: number;
}

/** Where a pass spent its time, in whole milliseconds. */
export function passTimings(result: ControllerPassResult): PassTimings {
  return {
    inventoryMs: Math.round(result.inventoryMs),
    observeMs: Math.round(result.timings.observeMs),
    planMs: Math.round(result.timings.planMs),
    applyMs: Math.round(result.timings.applyMs),
  };
}

function familyOf(cidr: string | undefined): Family {
  return cidr?.includes(':') ? 'ipv6' : 'ipv4';
}

function applied(target: string, changes: readonly AppliedChange[]): Pick<TargetReport, 'add' | 'revoke'> {
  const mine = changes.filter((c) => c.target === target);
  return {
    add: mine
      .filter((c) => c.action === 'authorize')
      .map((c) => ({ groupId: c.groupId, instanceId: c.instanceId ?? '', memberRegion: c.memberRegion ?? '', cidr: c.cidr ?? '', port: c.port, ruleId: c.ruleId })),
    revoke: mine
      .filter((c) => c.action === 'revoke')
      .map((c) => ({ groupId: c.groupId, ruleId: c.ruleId ?? '', cidr: c.cidr, port: c.port, instanceId: c.instanceId, memberRegion: c.memberRegion, reason: c.reason })),
  };
}

function planned(target: string, plan: Plan): Pick<TargetReport, 'add' | 'revoke'> {
  return {
    add: plan.authorize.flatMap((b) =>
      b.items.filter((r) => r.target === target).map((r) => ({ groupId: b.groupId, instanceId: r.instanceId, memberRegion: r.memberRegion, cidr: r.cidr, port: r.port })),
    ),
    revoke: plan.revoke.flatMap((b) =>
      b.items
        .filter((r) => r.target === target)
        .map((r) => ({ groupId: b.groupId, ruleId: r.ruleId, cidr: r.cidr, port: r.port, instanceId: r.instanceId, memberRegion: r.memberRegion, reason: r.reason })),
    ),
  };
}

/**
 * Capacity per group and family. A plan shows the planned `after`; a
 * reconcile counts only the changes that landed, so a group whose call
 * failed shows no change. Every target's changes in a group count: a group
 * two targets share (one may have retired it) holds the rules of both.
 */
function capacity(target: string, plan: Plan, changes: readonly AppliedChange[] | undefined): CapacityReportLine[] {
  const delta = new Map<string, number>();
  for (const c of changes ?? []) {
    const key = `${c.groupId} ${familyOf(c.cidr)}`;
    delta.set(key, (delta.get(key) ?? 0) + (c.action === 'authorize' ? 1 : -1));
  }
  return plan.capacity
    .filter((l: CapacityLine) => l.target === target)
    .map((l) => ({
      groupId: l.groupId,
      family: l.family,
      quota: l.quota,
      before: l.before,
      after: changes ? l.before + (delta.get(`${l.groupId} ${l.family}`) ?? 0) : l.after,
      managed: l.managed,
      foreign: l.foreign,
      ...(l.missing ? { missing: true as const } : {}),
    }));
}

/** The target's retired groups. A plan shows what its revokes would leave; a reconcile counts the revokes that landed. */
function retired(target: string, plan: Plan, changes: readonly AppliedChange[] | undefined): RetiredReportLine[] {
  return (plan.retired ?? [])
    .filter((l) => l.target === target)
    .map((l) => {
      const gone = changes?.filter((c) => c.action === 'revoke' && c.target === target && c.groupId === l.groupId).length;
      return { groupId: l.groupId, rules: l.rules, left: gone === undefined ? l.left : Math.max(0, l.rules - gone), ...(l.missing ? { missing: true as const } : {}) };
    });
}

function targetReport(target: Target, kind: ReportKind, result: ControllerPassResult): TargetReport {
  const { plan, lastPlan } = result;
  // What was kept, blocked or refused is what the last look at the world said.
  const last = kind === 'reconcile' ? lastPlan : plan;
  const mine = <T extends { target: string }>(items: readonly T[]) => items.filter((x) => x.target === target.name);
  const drained = retired(target.name, plan, kind === 'reconcile' ? result.changes : undefined);
  return {
    name: target.name,
    region: target.region,
    ...(kind === 'reconcile' ? applied(target.name, result.changes) : planned(target.name, plan)),
    kept: mine(last.kept).map(({ groupId, ruleId, cidr, port, instanceId, memberRegion, reason, detail, wouldRevoke }) => ({
      groupId, ruleId, cidr, port, instanceId, ...(memberRegion === undefined ? {} : { memberRegion }), reason, detail, ...(wouldRevoke ? { wouldRevoke } : {}),
    })),
    blocked: mine(last.blocked).map(({ instanceId, memberRegion, cidr, family, port, reason }) => ({ instanceId, memberRegion, cidr, family, port, reason })),
    refused: mine(last.refused).map(({ instanceId, memberRegion, reason, detail }) => ({ instanceId, memberRegion, reason, detail })),
    foreign: mine(plan.foreign).map(({ groupId, ruleId, family, protocol, fromPort, toPort, cidr, description, dangerous }) => ({
      groupId, ruleId, family, protocol, fromPort, toPort, cidr, description, dangerous,
    })),
    // The last look knows the most: a group AWS refused a rule in as not existing is missing from then on.
    capacity: capacity(target.name, { ...plan, capacity: markMissing(plan.capacity, last) }, kind === 'reconcile' ? result.changes : undefined),
    missing: last.missing.filter((m) => m.target === target.name).map((m) => m.groupId),
    ...(drained.length > 0 ? { retired: drained } : {}),
  };
}

/** Capacity lines of `lines` marked missing where the plan `last` names the group as missing. */
function markMissing(lines: readonly CapacityLine[], last: Plan): CapacityLine[] {
  if (last.missing.length === 0) return [...lines];
  const gone = new Set(last.missing.map((m) => `${m.target} ${m.groupId}`));
  return lines.map((l) => (gone.has(`${l.target} ${l.groupId}`) ? { ...l, missing: true } : l));
}

function errorLine(e: SgsyncError): PassReport['errors'][number] {
  const d = e.details;
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { code: e.code, message: e.message, region: text(d.region), groupId: text(d.groupId), action: text(d.action) };
}

/**
 * Builds the report of a controller pass. `plan` reports what a reconcile
 * would do; `reconcile` reports what was done (the changes that landed), and
 * what the last look at the world kept, blocked or refused.
 */
export function buildReport(kind: ReportKind, result: ControllerPassResult, targets: readonly Target[], calls?: Record<string, number>): PassReport {
  const reports = targets.map((t) => targetReport(t, kind, result));
  const sum = (f: (t: TargetReport) => number) => reports.reduce((n, t) => n + f(t), 0);
  const summary = {
    add: sum((t) => t.add.length),
    revoke: sum((t) => t.revoke.length),
    kept: sum((t) => t.kept.length),
    blocked: sum((t) => t.blocked.length),
    refused: sum((t) => t.refused.length),
    foreign: sum((t) => t.foreign.length),
    dangerous: sum((t) => t.foreign.filter((f) => f.dangerous).length),
    missing: new Set(reports.flatMap((t) => t.missing.map((g) => `${t.region} ${g}`))).size,
    regionsFailed: result.inventory.regions.filter((r) => r.status === 'failed').length,
    errors: result.errors.length,
  };
  const halted = result.plan.halted
    ? { wouldRevoke: result.plan.halted.wouldRevoke, limit: result.plan.halted.limit, managed: result.plan.halted.managed, override: '--force' }
    : undefined;
  const outcome: PassReport['outcome'] =
    result.errors.length > 0 || summary.regionsFailed > 0 || result.stopped !== undefined ? 'incomplete'
    : halted ? 'halted'
    : summary.add + summary.revoke === 0 ? 'in-sync'
    : kind === 'plan' ? 'changes-pending'
    : 'applied';
  return {
    kind,
    passId: result.passId,
    startedAt: result.startedAt,
    deployment: result.plan.deployment,
    outcome,
    summary,
    ...(halted ? { halted } : {}),
    ...(result.stopped !== undefined ? { stopped: result.stopped } : {}),
    regions: result.inventory.regions,
    targets: reports,
    errors: result.errors.map(errorLine),
    warnings: controllerPassWarnings(result).sort(),
    ...(calls ? { calls } : {}),
    timings: passTimings(result),
  };
}
