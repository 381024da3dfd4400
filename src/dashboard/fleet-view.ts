/**
 * The fleet view: instances × targets × rules joined into one row per
 * instance, with the rule status of that instance in every target. Built from
 * what a dry controller pass already holds (inventory, observed rules, plan),
 * so the terminal and the dashboard show exactly what a pass would act on.
 */
import type { Member, ObservedRule, Plan, Target } from '../core/model.js';
import { isManagedBy, ruleMember, ruleTag, TAG } from '../core/ownership.js';
import { matchesSelector } from '../core/selector.js';
import type { GroupCheck } from '../controller/group-check.js';
import type { RegionResult } from '../controller/inventory.js';
import type { PassReport } from '../controller/report.js';
import { portText } from './port-text.js';
import { blockedText, memberKey } from '../core/plan-output.js';

/**
 * An instance's standing in one target, most urgent first:
 * - `stale`: it holds a rule that should go (stopped, terminated, no longer selected), whether a pass
 *   would revoke it or a safety rule keeps it back for now (blast radius, grace, unknown region),
 *   and needs no new one; a member that needs a new rule too (a stop/start gave it a new address)
 *   shows that need, `blocked`, `refused` or `missing`, with `stale` set on its standing;
 * - `blocked`: it should be admitted but no group in the pool has room (or none of its groups exists);
 * - `refused`: it is selected but has no address the target admits, in any of its families;
 * - `missing`: it should be admitted and a pass would add the rule;
 * - `admitted`: every rule it needs is in place;
 * - `idle`: selected, but not running, and holding no rule (nothing to do);
 * - `not-member`: the target's selector does not pick it.
 */
export type RuleStatus = 'stale' | 'blocked' | 'refused' | 'missing' | 'admitted' | 'idle' | 'not-member';

export const RULE_STATUSES: readonly RuleStatus[] = ['stale', 'blocked', 'refused', 'missing', 'admitted', 'idle', 'not-member'];

/** Statuses that a person (or `sgsync status`) should look at. */
export const NEEDS_ATTENTION: ReadonlySet<RuleStatus> = new Set(['stale', 'blocked', 'refused', 'missing']);

export interface TargetStanding {
  status: RuleStatus;
  /** Why, in words: the plan's reasons, or the rule ids that admit it. */
  detail: string;
  /** Set when the status is a need (`blocked`, `refused`, `missing`) and the member also holds a rule that should go. */
  stale?: true;
}

/** Whether a standing is, or includes, a rule that should go: what the `stale` filter finds. */
export function holdsStale(s: TargetStanding | undefined): boolean {
  return s?.status === 'stale' || s?.stale === true;
}

export interface InstanceRow {
  region: string;
  instanceId: string;
  /** The Name tag: untrusted text. */
  name: string;
  state: Member['state'];
  type?: string;
  publicIpv4?: string;
  privateIpv4?: string;
  /** Its IPv6 addresses, the one a target admits first. */
  ipv6: string[];
  launchTime?: string;
  tags: Record<string, string>;
  /** Targets whose selector picks this instance. */
  targets: string[];
  /** Standing in every configured target, by target name. */
  standing: Record<string, TargetStanding>;
}

export interface FleetView {
  at: string;
  deployment: string;
  targets: Target[];
  regions: RegionResult[];
  rows: InstanceRow[];
  plan: Plan;
  observed: ObservedRule[];
  /** The dry pass as a report (per target: adds, revokes, kept, blocked, foreign, capacity). */
  report?: PassReport;
  /** Which pool groups do not exist, and where they could not be listed. */
  groupCheck?: GroupCheck;
}

export interface FleetViewInput {
  deployment: string;
  targets: Target[];
  members: Member[];
  regions: RegionResult[];
  /** The plan of a dry pass over these members and rules. */
  plan: Plan;
  observed: ObservedRule[];
  report?: PassReport;
  groupCheck?: GroupCheck;
  at?: string;
}


function push(map: Map<string, string[]>, k: string, value: string): void {
  const list = map.get(k);
  if (list) list.push(value);
  else map.set(k, [value]);
}

/** Indexes the plan and the managed rules by (target, instance). */
function planIndex(input: FleetViewInput) {
  const stale = new Map<string, string[]>();
  const kept = new Map<string, string[]>();
  const replacing = new Map<string, string[]>();
  const blocked = new Map<string, string[]>();
  const refused = new Map<string, string[]>();
  const missing = new Map<string, string[]>();
  const admittedBy = new Map<string, string[]>();
  // Each names its port: a target with several ports has a rule per port for one address.
  for (const batch of input.plan.revoke) for (const r of batch.items) push(stale, memberKey(r.target, r.instanceId), `${r.cidr ?? r.ruleId} ${portText(r.port)}: ${r.reason}`);
  // A rule kept until its member's new one finds room is that member's block, not staleness to wait out.
  for (const r of input.plan.kept) {
    if (r.reason === 'replacement-blocked') push(replacing, memberKey(r.target, r.instanceId), `${r.cidr ?? r.ruleId} ${portText(r.port)}: ${r.ruleId} in ${r.groupId} admits it meanwhile`);
    else push(kept, memberKey(r.target, r.instanceId), `${r.cidr ?? r.ruleId} ${portText(r.port)} should go, but is kept back (${r.reason}: ${r.detail})`);
  }
  for (const b of input.plan.blocked) push(blocked, memberKey(b.target, b.instanceId), `${b.cidr} ${portText(b.port)}: ${blockedText(b.reason)}`);
  for (const r of input.plan.refused) push(refused, memberKey(r.target, r.instanceId), r.detail);
  for (const batch of input.plan.authorize) for (const r of batch.items) push(missing, memberKey(r.target, r.instanceId), `${r.cidr} ${portText(r.port)} → ${batch.groupId}`);
  for (const rule of input.observed) {
    if (!isManagedBy(rule, input.deployment)) continue;
    const target = ruleTag(rule, TAG.target);
    if (target !== undefined) push(admittedBy, memberKey(target, ruleMember(rule).instanceId), `${rule.cidr ?? rule.ruleId} ${portText(rule)}: ${rule.ruleId} in ${rule.groupId}`);
  }
  return { stale, kept, replacing, blocked, refused, missing, admittedBy };
}

/** What a member lacks in a target, most urgent first: no room for its rule, no usable address, or a rule a pass would add. */
function needOf(k: string, index: ReturnType<typeof planIndex>): TargetStanding | undefined {
  const blocked = index.blocked.get(k);
  if (blocked) return { status: 'blocked', detail: [...blocked, ...(index.replacing.get(k) ?? [])].join('; ') };
  const refused = index.refused.get(k);
  if (refused) return { status: 'refused', detail: refused.join('; ') };
  const missing = index.missing.get(k);
  if (missing) return { status: 'missing', detail: `a pass would add ${missing.join('; ')}` };
  return undefined;
}

function standingOf(member: Member, target: Target, index: ReturnType<typeof planIndex>): TargetStanding {
  const k = memberKey(target.name, member.instanceId);
  // A rule the safety rules keep back is still one that should go: held back is not admitted.
  const stale = index.stale.get(k);
  const kept = index.kept.get(k);
  const goes = stale || kept ? [...(stale ? [`a pass would revoke ${stale.join('; ')}`] : []), ...(kept ?? [])].join('; ') : undefined;
  const need = needOf(k, index);
  // A member that needs a rule it lacks (a stop/start gave it a new address) is not admitted, which
  // is what its status says; the rule of its old address that should go is told beside it.
  if (need) return goes === undefined ? need : { status: need.status, detail: `${need.detail}; it also holds a rule that should go: ${goes}`, stale: true };
  if (goes !== undefined) return { status: 'stale', detail: goes };
  // Its rule under a target's old name holds the same permission: it admits the member until the new one has room.
  const replacing = index.replacing.get(k);
  if (replacing) return { status: 'admitted', detail: replacing.join('; ') };
  const rules = index.admittedBy.get(k);
  if (rules) return { status: 'admitted', detail: rules.join('; ') };
  if (!matchesSelector(member, target.selector)) return { status: 'not-member', detail: 'the selector does not pick this instance' };
  return member.state === 'running'
    ? { status: 'missing', detail: 'no rule yet' }
    : { status: 'idle', detail: `${member.state}: no rule needed` };
}

/**
 * Joins the inventory with the plan of a dry pass. Rows come sorted by region,
 * then Name, then id, so two views of the same world read the same.
 */
export function buildFleetView(input: FleetViewInput): FleetView {
  const index = planIndex(input);
  const rows = input.members.map((m): InstanceRow => {
    const standing: Record<string, TargetStanding> = {};
    for (const t of input.targets) standing[t.name] = standingOf(m, t, index);
    return {
      region: m.region,
      instanceId: m.instanceId,
      name: m.tags.Name ?? '',
      state: m.state,
      type: m.instanceType,
      publicIpv4: m.publicIpv4,
      privateIpv4: m.privateIpv4,
      ipv6: Array.isArray(m.ipv6) ? m.ipv6 : [],
      launchTime: m.launchTime,
      tags: m.tags,
      targets: input.targets.filter((t) => matchesSelector(m, t.selector)).map((t) => t.name),
      standing,
    };
  });
  rows.sort((a, b) => cmp(a.region, b.region) || cmp(a.name, b.name) || cmp(a.instanceId, b.instanceId));
  return {
    at: input.at ?? input.plan.at,
    deployment: input.deployment,
    targets: input.targets,
    regions: [...input.regions].sort((a, b) => cmp(a.region, b.region)),
    rows,
    plan: input.plan,
    observed: input.observed,
    ...(input.report ? { report: input.report } : {}),
    ...(input.groupCheck ? { groupCheck: input.groupCheck } : {}),
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The most urgent standing of a row across its targets ('not-member' when it is in none). */
export function worstStatus(row: InstanceRow): RuleStatus {
  const statuses = Object.values(row.standing).map((s) => s.status);
  return RULE_STATUSES.find((s) => statuses.includes(s)) ?? 'not-member';
}
