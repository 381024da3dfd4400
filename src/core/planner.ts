/**
 * The planner: desired × observed × capacity × safety policy × now → Plan.
 * Pure, deterministic and total: odd input becomes a warning, never an
 * exception, because a controller that crashes on one garbled tag stops
 * cleaning up after every other instance too.
 */
import { isOpenToWorld } from './addresses.js';
import { CapacityLedger, placeRules, type Pool } from './capacity.js';
import { ruleDescription } from './description.js';
import { desiredRulesOfUnique } from './desired.js';
import type { DesiredRule, ForeignRule, KeptRule, ObservedRule, Plan, PlanInput, PlannedRevoke, PlannedRule, PortSpec, Scope, Target } from './model.js';
import { MemberIndex } from './member-index.js';
import { isManagedBy, ownershipTags, ruleMember, ruleTag, TAG } from './ownership.js';
import { capacityLines, sortByKey, toBatches } from './plan-output.js';
import { decideUnmatched } from './revoke-decision.js';
import { desiredKey, keyOfDesired, normalizePort } from './rule-key.js';
import { readNow, revokeLimit } from './safety.js';

interface Known {
  targets: Target[];
  byName: Map<string, Target>;
  poolIndex: Map<string, Map<string, number>>;
  /** Group id → the first target whose pool holds it. */
  groupOwner: Map<string, Target>;
  members: MemberIndex;
  observed: ObservedRule[];
}

/** Indexes the input once, dropping (and reporting) duplicates and strays. */
function index(input: PlanInput, warn: (w: string) => void): Known {
  const known: Known = { targets: [], byName: new Map(), poolIndex: new Map(), groupOwner: new Map(), members: new MemberIndex(input.members ?? []), observed: [] };
  for (const target of input.targets ?? []) {
    if (typeof target?.name !== 'string') continue;
    if (known.byName.has(target.name)) {
      warn(`target "${target.name}" is defined twice; the second definition is ignored`);
      continue;
    }
    known.targets.push(target);
    known.byName.set(target.name, target);
    const pool = new Map<string, number>();
    (target.groupIds ?? []).forEach((g, i) => pool.has(g) || pool.set(g, i));
    known.poolIndex.set(target.name, pool);
    if (pool.size === 0) warn(`target "${target.name}" has no security groups: its rules cannot be placed`);
    for (const g of pool.keys()) {
      const owner = known.groupOwner.get(g);
      if (!owner) known.groupOwner.set(g, target);
      else if (owner.region !== target.region) warn(`${g} is in the pools of "${owner.name}" (${owner.region}) and "${target.name}" (${target.region}); a group lives in one region`);
    }
  }
  for (const id of known.members.duplicates) warn(`instance ${id} is listed twice; the first entry is used`);
  const ruleIds = new Set<string>();
  const strays = new Map<string, number>();
  for (const rule of input.observed ?? []) {
    if (typeof rule?.groupId !== 'string') continue;
    if (ruleIds.has(rule.ruleId)) {
      warn(`rule ${rule.ruleId} was observed twice; the first copy is used`);
    } else if (!known.groupOwner.has(rule.groupId)) {
      strays.set(rule.groupId, (strays.get(rule.groupId) ?? 0) + 1);
    } else {
      ruleIds.add(rule.ruleId);
      known.observed.push(rule);
    }
  }
  for (const [g, n] of strays) warn(`${n} rule(s) in ${g}, which is in no target's pool, were ignored`);
  return known;
}

function scopedDesired(known: Known, scope: Scope): { rules: DesiredRule[]; refused: Plan['refused'] } {
  if (scope.kind === 'instance') {
    const member = known.members.get(scope.instanceId);
    if (scope.deregister || !member) return { rules: [], refused: [] };
    return desiredRulesOfUnique(known.targets, [member]);
  }
  return desiredRulesOfUnique(known.targets, known.members.members);
}

function toRevoke(rule: ObservedRule, target: Target, reason: PlannedRevoke['reason'], members: MemberIndex): PlannedRevoke {
  const { instanceId, memberRegion: described } = ruleMember(rule);
  const memberRegion = (instanceId !== undefined ? members.get(instanceId)?.region : undefined) ?? described;
  return { ruleId: rule.ruleId, groupId: rule.groupId, target: target.name, family: rule.family, cidr: rule.cidr, port: normalizePort(rule) as PortSpec, instanceId, memberRegion, reason };
}

/**
 * Plans one pass. Revokes only rules this deployment manages, for a known
 * target, inside the scope (rule 1); keeps rules whose instance cannot be
 * seen while its region is unknown or the rule is young (rules 2, 3); empties
 * the revoke list when it exceeds the limit unless forced (rule 4) while still
 * planning authorizations, placed without the room those revokes would free;
 * builds rules only from checked host addresses (rule 5); places new rules
 * sticky first-fit within quotas (rule 6). Planning against the result of
 * applying a plan yields nothing to do (rule 7).
 *
 * @example
 * const p = plan({ deployment: 'prod', targets, members, regionInventory, observed, scope: { kind: 'all' }, now: Date.now(),
 *   safety: { graceSeconds: 300, revokeLimit: { fraction: 0.5 }, force: false } });
 */
export function plan(input: PlanInput): Plan {
  const warnings = new Set<string>();
  const warn = (w: string) => void warnings.add(w);
  const deployment = String(input.deployment ?? '');
  const scope: Scope = input.scope?.kind === 'instance' ? input.scope : { kind: 'all' };
  const now = readNow(input.now);
  if (!Number.isFinite(now.ms)) warn(`the pass time "${now.iso}" is not a time: every rule whose instance is not visible is kept`);
  const known = index(input, warn);
  const desired = scopedDesired(known, scope);

  const ledger = new CapacityLedger(known.observed);
  const foreign: ForeignRule[] = [];
  const candidates: { rule: ObservedRule; target: Target; instanceId: string; at: number }[] = [];
  let managedTotal = 0;
  for (const rule of known.observed) {
    if (!isManagedBy(rule, deployment)) {
      const { ruleId, groupId, family, protocol, fromPort, toPort, cidr, description } = rule;
      const target = known.groupOwner.get(groupId)?.name ?? '';
      foreign.push({ ruleId, groupId, target, family, protocol, fromPort, toPort, cidr, description, dangerous: isOpenToWorld(cidr) });
      continue;
    }
    const tagged = ruleTag(rule, TAG.target);
    const target = tagged === undefined ? undefined : known.byName.get(tagged);
    const at = target ? known.poolIndex.get(target.name)?.get(rule.groupId) : undefined;
    if (!target || at === undefined) {
      warn(`rule ${rule.ruleId} in ${rule.groupId} is managed by "${deployment}" for ${target ? `target "${target.name}", whose pool does not include the group` : `unknown target "${tagged ?? ''}"`}; it is left alone`);
      continue;
    }
    managedTotal++;
    const { instanceId } = ruleMember(rule);
    if (scope.kind === 'instance' && instanceId !== scope.instanceId) continue;
    if (instanceId === undefined) {
      warn(`rule ${rule.ruleId} in ${rule.groupId} names no instance (no ${TAG.instance} tag, no sgsync description); it is left alone`);
      continue;
    }
    candidates.push({ rule, target, instanceId, at });
  }

  // Only instances that already have rules need keyed lookups: at fleet scale
  // most desired rules belong to instances with none (new, or blocked).
  const withRules = new Set(candidates.map((c) => c.instanceId));
  const desiredByKey = new Map<string, DesiredRule>();
  for (const r of desired.rules) if (withRules.has(r.instanceId)) desiredByKey.set(keyOfDesired(r), r);
  const matched = new Map<string, { rule: ObservedRule; at: number }[]>();
  const unmatched: typeof candidates = [];
  for (const candidate of candidates) {
    const { rule, target, instanceId, at } = candidate;
    const key = desiredKey(target.name, instanceId, rule, rule.cidr);
    if (!desiredByKey.has(key)) unmatched.push(candidate);
    else if (matched.has(key)) matched.get(key)?.push({ rule, at });
    else matched.set(key, [{ rule, at }]);
  }

  let revokes: { rule: ObservedRule; revoke: PlannedRevoke; region: string }[] = [];
  let kept: KeptRule[] = [];
  for (const [key, list] of matched) {
    if (list.length < 2) continue;
    const target = known.byName.get((desiredByKey.get(key) as DesiredRule).target) as Target;
    list.sort((a, b) => a.at - b.at || (a.rule.ruleId < b.rule.ruleId ? -1 : 1));
    for (const { rule } of list.slice(1)) revokes.push({ rule, region: target.region, revoke: toRevoke(rule, target, 'duplicate', known.members) });
  }
  const ctx = {
    members: known.members,
    regionInventory: input.regionInventory ?? {},
    nowMs: now.ms,
    graceSeconds: input.safety?.graceSeconds ?? 0,
    deregister: scope.kind === 'instance' && scope.deregister === true,
  };
  for (const { rule, target, instanceId } of unmatched) {
    const decision = decideUnmatched(rule, target, instanceId, ctx);
    if (decision.action === 'revoke') revokes.push({ rule, region: target.region, revoke: toRevoke(rule, target, decision.reason, known.members) });
    if (decision.action === 'keep') kept.push({ ruleId: rule.ruleId, groupId: rule.groupId, target: target.name, instanceId, reason: decision.reason, detail: decision.detail });
  }

  // The blast radius guards fleet-wide passes. An instance-scoped pass can only
  // touch that one instance's own rules, so it is never a blast.
  const limit = scope.kind === 'all' ? revokeLimit(input.safety?.revokeLimit, managedTotal) : undefined;
  let halted: Plan['halted'];
  if (limit !== undefined && revokes.length > limit && input.safety?.force !== true) {
    halted = { reason: 'blast-radius', wouldRevoke: revokes.length, limit, managed: managedTotal };
    const detail = `the pass would revoke ${revokes.length} of ${managedTotal} managed rules; the limit is ${limit}`;
    kept = kept.concat(revokes.map(({ revoke: r }) => ({ ruleId: r.ruleId, groupId: r.groupId, target: r.target, instanceId: r.instanceId, reason: 'blast-radius' as const, detail })));
    revokes = [];
  }
  // The applier revokes before it authorizes, so the room revokes free is usable in the same pass.
  for (const { rule } of revokes) ledger.remove(rule);

  const toPlace = desired.rules.filter((r) => !withRules.has(r.instanceId) || !matched.has(keyOfDesired(r)));
  const pools = new Map<string, Pool>(known.targets.map((t) => [t.name, { groupIds: [...(known.poolIndex.get(t.name)?.keys() ?? [])], quota: t.quota }]));
  const placement = placeRules(toPlace, (name) => pools.get(name), ledger);
  const authorizes = placement.placed.map(({ rule, groupId }) => {
    const item: PlannedRule = { ...rule, groupId, description: ruleDescription(deployment, rule), tags: ownershipTags(deployment, rule, now.iso) };
    return { item, region: known.byName.get(rule.target)?.region ?? '' };
  });

  const revokeItems = sortByKey(revokes, (r) => r.rule.ruleId);
  return {
    deployment,
    scope,
    at: now.iso,
    authorize: toBatches(authorizes),
    revoke: toBatches(revokeItems.map(({ revoke, region }) => ({ item: revoke, region }))),
    // Spelled out rather than spread: at fleet scale this list is long.
    blocked: placement.blocked.map((r) => ({ target: r.target, instanceId: r.instanceId, memberRegion: r.memberRegion, family: r.family, port: r.port, cidr: r.cidr, reason: 'capacity' as const })),
    refused: desired.refused,
    kept: sortByKey(kept, (k) => k.ruleId),
    foreign: sortByKey(foreign, (f) => `${f.groupId}\u0000${f.ruleId}`),
    capacity: capacityLines({
      targets: known.targets,
      observed: known.observed,
      isManaged: (r) => isManagedBy(r, deployment),
      revokes: revokeItems.map((r) => r.revoke),
      authorizes: authorizes.map((a) => a.item),
    }),
    ...(halted ? { halted } : {}),
    warnings: [...warnings].sort(),
  };
}
