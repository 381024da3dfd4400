/**
 * The planner: desired × observed × capacity × safety policy × now → Plan.
 * Pure, deterministic and total: odd input becomes a warning, never an
 * exception, because a controller that crashes on one garbled tag stops
 * cleaning up after every other instance too.
 */
import { isHostCidr, isOpenToWorld } from './addresses.js';
import { CapacityLedger, GroupFamilyCounts, placeRules, type Pool } from './capacity.js';
import { ruleDescription } from './description.js';
import { targetRules, type TargetRules } from './desired.js';
import type { DesiredRule, ForeignRule, KeepReason, KeptRule, MissingGroup, ObservedRule, Plan, PlanInput, PlannedRevoke, PlannedRule, PortSpec, Scope, Target } from './model.js';
import { MemberIndex } from './member-index.js';
import { isManagedBy, ownershipTags, registeredAtMs, ruleInstanceSpan, ruleMember, ruleTag, TAG, type TextSpan } from './ownership.js';
import { asBlocked, capacityLines, memberKey, replacingMembers, sortByKey, toBatches } from './plan-output.js';
import { decideUnmatched } from './revoke-decision.js';
import { ipv4HostNumber } from './ip-scan.js';
import { cidrHash, normalizePort } from './rule-key.js';
import { countsAgainstLimit, heldBack, isReplaced, keptInstead, readNow, revokeLimit, withinGrace } from './safety.js';
import { StringIndex } from './string-index.js';
import { RuleMatcher } from './rule-matcher.js';
import { decideRetired, indexRetired, RetiredCounts, type RetiredIndex } from './retired-groups.js';

interface Known {
  targets: Target[];
  byName: Map<string, Target>;
  poolIndex: Map<string, Map<string, number>>;
  /** Group id → the first target whose pool holds it. */
  groupOwner: Map<string, Target>;
  /** Each target's retired groups (`retiredGroups`). */
  retired: RetiredIndex;
  members: MemberIndex;
  observed: ObservedRule[];
}

/** Indexes the input once, dropping (and reporting) duplicates and strays. */
function index(input: PlanInput, warn: (w: string) => void): Known {
  const known: Known = {
    targets: [],
    byName: new Map(),
    poolIndex: new Map(),
    groupOwner: new Map(),
    retired: { byTarget: new Map(), owner: new Map() },
    members: new MemberIndex(input.members ?? []),
    observed: [],
  };
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
  known.retired = indexRetired(known.targets, (name) => known.poolIndex.get(name));
  for (const id of known.members.duplicates) warn(`instance ${id} is listed twice; the first entry is used`);
  const observed = input.observed ?? [];
  const ruleIds = new StringIndex((i) => (observed[i] as ObservedRule).ruleId, observed.length);
  const dropped = new Set<number>();
  const strays = new Map<string, number>();
  observed.forEach((rule, i) => {
    if (typeof rule?.groupId !== 'string') {
      dropped.add(i);
    } else if (!known.groupOwner.has(rule.groupId) && !known.retired.owner.has(rule.groupId)) {
      dropped.add(i);
      if (ruleIds.indexOf(rule.ruleId) >= 0) warn(`rule ${rule.ruleId} was observed twice; the first copy is used`);
      else strays.set(rule.groupId, (strays.get(rule.groupId) ?? 0) + 1);
    } else if (ruleIds.add(i) >= 0) {
      dropped.add(i);
      warn(`rule ${rule.ruleId} was observed twice; the first copy is used`);
    }
  });
  for (const [g, n] of strays) warn(`${n} rule(s) in ${g}, which is in no target's pool, were ignored`);
  // Nearly always every rule is kept and the list is used as given.
  known.observed = dropped.size === 0 ? observed : observed.filter((_, i) => !dropped.has(i));
  return known;
}

/** The groups EC2 says do not exist (`PlanInput.missing`), as `region groupId`; odd entries are dropped. */
function saidMissing(input: PlanInput): Set<string> {
  const said = (Array.isArray(input.missing) ? input.missing : []) as readonly Partial<MissingGroup>[];
  return new Set(said.filter((m) => typeof m?.groupId === 'string' && typeof m.region === 'string').map((m) => `${m.region} ${m.groupId}`));
}

/**
 * The groups of each target's pool that EC2 says do not exist in the
 * target's region (`gone`, from `saidMissing`). A group whose rules were read
 * exists (the listing that left it out lagged behind), so it is never among them.
 */
function missingByTarget(gone: ReadonlySet<string>, known: Known): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  if (gone.size === 0) return out;
  const withRules = new Set(known.observed.map((r) => r.groupId));
  for (const t of known.targets) {
    for (const g of known.poolIndex.get(t.name)?.keys() ?? []) {
      if (!gone.has(`${t.region} ${g}`) || withRules.has(g)) continue;
      const set = out.get(t.name);
      if (set) set.add(g);
      else out.set(t.name, new Set([g]));
    }
  }
  return out;
}

/** Positions of the members whose rules a pass wants: one instance's, or (undefined) everyone's. */
function scopedMembers(known: Known, scope: Scope): number[] | undefined {
  if (scope.kind === 'all') return undefined;
  const at = typeof scope.instanceId === 'string' ? known.members.find(scope.instanceId, 0, scope.instanceId.length) : -1;
  return scope.deregister || at < 0 ? [] : [at];
}

/** Whether the span reads exactly `text`. */
function spells(span: TextSpan, text: string): boolean {
  return typeof text === 'string' && span.end - span.start === text.length && span.text.startsWith(text, span.start);
}

/**
 * Counts a rule against its group's quota. A rule with no address (it
 * admits another security group, or a prefix list) counts once in each
 * family, as AWS counts it; one with an address, in that address's family.
 */
function countRule(counts: GroupFamilyCounts, rule: ObservedRule): void {
  counts.add(rule.groupId, rule.family);
  if (rule.cidr === undefined) counts.add(rule.groupId, rule.family === 'ipv4' ? 'ipv6' : 'ipv4');
}

/** A rule's member region: where its instance is listed, else what the rule says. */
function regionOf(rule: ObservedRule, instanceId: string | undefined, members: MemberIndex): string | undefined {
  return (instanceId === undefined ? undefined : members.get(instanceId)?.region) ?? ruleMember(rule).memberRegion;
}

function toRevoke(rule: ObservedRule, t: TargetRules, instanceId: string | undefined, reason: PlannedRevoke['reason'], members: MemberIndex): PlannedRevoke {
  const memberRegion = regionOf(rule, instanceId, members);
  return { ruleId: rule.ruleId, groupId: rule.groupId, target: t.target.name, family: rule.family, cidr: rule.cidr, port: normalizePort(rule) as PortSpec, instanceId, memberRegion, reason };
}

function toKept(rule: ObservedRule, t: TargetRules, instanceId: string | undefined, reason: KeepReason, detail: string, members: MemberIndex): KeptRule {
  const memberRegion = regionOf(rule, instanceId, members);
  return { ruleId: rule.ruleId, groupId: rule.groupId, target: t.target.name, cidr: rule.cidr, port: normalizePort(rule) as PortSpec, instanceId, ...(memberRegion === undefined ? {} : { memberRegion }), reason, detail };
}

/**
 * Plans one pass. Revokes only rules this deployment manages, for a known
 * target, inside the scope (rule 1); keeps rules whose instance cannot be
 * seen while its region is unknown or the rule is young (rules 2, 3); empties
 * the revoke list when it exceeds the limit unless forced (rule 4) while still
 * planning authorizations, placed without the room those revokes would free;
 * builds rules only from checked host addresses (rule 5); places new rules
 * sticky first-fit within quotas (rule 6; the search starts at a group the
 * instance id picks), never in a group that does not exist. Planning against the result of
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
  const targets = known.targets.map(targetRules);
  const rulesOf = new Map(targets.map((t) => [t.target.name, t]));

  // One walk over the observed rules: capacity, foreign rules, and this deployment's rules by member.
  const { observed } = known;
  const managedCounts = new GroupFamilyCounts();
  const foreignCounts = new GroupFamilyCounts();
  const foreign: ForeignRule[] = [];
  const matcher = new RuleMatcher(targets, known.members, scopedMembers(known, scope), observed);
  const span: TextSpan = { text: '', start: 0, end: 0 };
  // Read now, while each rule is at hand: which rules a placement could collide with (see below).
  const cidrHashes = new Int32Array(observed.length);
  let managedTotal = 0;
  /** Of them, rules wider than one address: never sgsync's, revoked whatever the blast radius (see below). */
  let wideTotal = 0;
  const unnamedWide: { rule: ObservedRule; t: TargetRules }[] = [];
  /** This deployment's rules in a group their target retired, naming an instance in scope. */
  const retiring: { rule: ObservedRule; t: TargetRules }[] = [];
  const retiredCounts = new RetiredCounts();
  /** This deployment's rules for a target the configuration no longer has, or in a group its target's pool no longer holds; `t` is the target whose pool holds the group. */
  const orphans: { rule: ObservedRule; t: TargetRules; reason: 'target-removed' | 'not-in-pool' | 'malformed'; tagged: string }[] = [];
  observed.forEach((rule, i) => {
    // The CIDR is read as an IPv4 host once, for its hash and for the matcher.
    const host = ipv4HostNumber(rule.cidr);
    cidrHashes[i] = cidrHash(rule.cidr, host);
    if (!isManagedBy(rule, deployment)) {
      countRule(foreignCounts, rule);
      const { ruleId, groupId, family, protocol, fromPort, toPort, cidr, description } = rule;
      const target = (known.groupOwner.get(groupId) ?? known.retired.owner.get(groupId))?.name ?? '';
      foreign.push({ ruleId, groupId, target, family, protocol, fromPort, toPort, cidr, description, dangerous: isOpenToWorld(cidr) });
      return;
    }
    countRule(managedCounts, rule);
    const tagged = ruleTag(rule, TAG.target);
    const t = tagged === undefined ? undefined : rulesOf.get(tagged);
    const at = t ? known.poolIndex.get(t.target.name)?.get(rule.groupId) : undefined;
    // In a group its target retired: judged apart (see decideRetired), and never a member's rule in the pool.
    const retired = t !== undefined && at === undefined && known.retired.byTarget.get(t.target.name)?.has(rule.groupId) === true;
    if (!t || (at === undefined && !retired)) {
      // Left behind by a configuration that changed: a target renamed or removed, a group moved to another
      // target's pool. Still this deployment's rule, in a group it manages: a fleet pass revokes it (past
      // grace, within the blast radius), and so does the instance's own deregistration; an instance's
      // other passes leave it to the controller, whose configuration may be the newer one.
      const pooled = known.groupOwner.get(rule.groupId);
      const owner = pooled ?? known.retired.owner.get(rule.groupId);
      // In a group only retired: the group is not drained while such a rule is there, so its line counts it too.
      if (pooled === undefined && owner !== undefined) retiredCounts.count(owner.name, rule);
      const mine = scope.kind === 'all' || (ruleInstanceSpan(rule, span) && spells(span, scope.instanceId));
      if (owner !== undefined && mine && (scope.kind === 'all' || scope.deregister === true)) {
        managedTotal++;
        if (host < 0 && !isHostCidr(rule.cidr)) wideTotal++;
        // No target tag at all: not a rule sgsync writes.
        orphans.push({ rule, t: rulesOf.get(owner.name) as TargetRules, reason: t ? 'not-in-pool' : tagged === undefined ? 'malformed' : 'target-removed', tagged: tagged ?? '' });
      } else if (mine) {
        warn(`rule ${rule.ruleId} in ${rule.groupId} is managed by "${deployment}" for ${t ? `target "${t.target.name}", whose pool does not include the group` : `unknown target "${tagged ?? ''}"`}; it is left to fleet passes`);
      }
      return;
    }
    managedTotal++;
    // An IPv4 host, which nearly every rule is, was read above; only the rest need parsing.
    if (host < 0 && !isHostCidr(rule.cidr)) wideTotal++;
    if (retired) retiredCounts.count(t.target.name, rule);
    const named = ruleInstanceSpan(rule, span);
    if (scope.kind === 'instance' && !(named && spells(span, scope.instanceId))) return;
    if (!named) {
      // A rule wider than one address is not sgsync's whatever it names (see decideUnmatched); fleet passes revoke it.
      if (!isHostCidr(rule.cidr)) {
        if (scope.kind === 'all') unnamedWide.push({ rule, t });
        return;
      }
      warn(`rule ${rule.ruleId} in ${rule.groupId} names no instance (no ${TAG.instance} tag, no sgsync description); it is left alone`);
      return;
    }
    if (retired) retiring.push({ rule, t });
    else matcher.queue(i, targets.indexOf(t), at as number, span.text, span.start, span.end, host);
  });
  matcher.flush();

  const wanted = matcher.wanted();
  const instanceOf = (rule: ObservedRule) => ruleMember(rule).instanceId as string;
  let revokes: { rule: ObservedRule; revoke: PlannedRevoke }[] = wanted.duplicates.map((i) => {
    const rule = observed[i] as ObservedRule;
    return { rule, revoke: toRevoke(rule, targets[matcher.target[i] ?? 0] as TargetRules, instanceOf(rule), 'duplicate', known.members) };
  });
  for (const { rule, t } of unnamedWide) revokes.push({ rule, revoke: toRevoke(rule, t, undefined, 'malformed', known.members) });
  let kept: KeptRule[] = [];
  const ctx = {
    members: known.members,
    regionInventory: input.regionInventory ?? {},
    nowMs: now.ms,
    graceSeconds: input.safety?.graceSeconds ?? 0,
    deregister: scope.kind === 'instance' && scope.deregister === true,
  };
  /** Revokes or keeps a managed rule of target `t` as `decide` says. */
  const settle = (rule: ObservedRule, t: TargetRules, decide: typeof decideUnmatched) => {
    const { instanceId, memberRegion } = ruleMember(rule) as { instanceId: string; memberRegion?: string };
    const decision = decide(rule, t, { instanceId, memberRegion }, ctx);
    if (decision.action === 'revoke') revokes.push({ rule, revoke: toRevoke(rule, t, instanceId, decision.reason, known.members) });
    if (decision.action === 'keep') kept.push(toKept(rule, t, instanceId, decision.reason, decision.detail, known.members));
  };
  observed.forEach((rule, i) => {
    const t = targets[matcher.target[i] ?? -1];
    if (t !== undefined && !matcher.isClaimed(i)) settle(rule, t, decideUnmatched);
  });
  for (const { rule, t } of retiring) settle(rule, t, decideRetired);

  for (const { rule, t, reason, tagged } of orphans) {
    const { instanceId } = ruleMember(rule);
    if (ctx.deregister) revokes.push({ rule, revoke: toRevoke(rule, t, instanceId, 'deregistered', known.members) });
    else if (withinGrace(registeredAtMs(rule), now.ms, ctx.graceSeconds)) {
      const what = reason === 'not-in-pool' ? `target "${tagged}", whose pool does not include ${rule.groupId}` : `target "${tagged}", which the configuration does not define`;
      const detail = `the rule is for ${what}; it is younger than ${ctx.graceSeconds}s (an agent with a newer configuration may have written it)`;
      kept.push(toKept(rule, t, instanceId, 'grace', detail, known.members));
    } else revokes.push({ rule, revoke: toRevoke(rule, t, instanceId, reason, known.members) });
  }

  // Only the CIDRs about to be placed can collide with a rule already in a group, and
  // the CIDR hashes find those rules without reading the rest again. With no rule in
  // the groups (a cold pass, placing a hundred thousand rules) there is nothing to find,
  // and the set is not needed either: the ledger then remembers only the rules placed,
  // all of whose (canonical) CIDRs it would have let through.
  let placing: Set<string> | undefined;
  let existing: ObservedRule[] = [];
  if (observed.length > 0) {
    placing = new Set<string>();
    for (const r of wanted.toPlace) placing.add(r.cidr);
    const placingHashes = new Set<number>();
    for (const cidr of placing) placingHashes.add(cidrHash(cidr));
    existing = observed.filter((_, i) => placingHashes.has(cidrHashes[i] ?? 0));
  }
  const counted = GroupFamilyCounts.sum(managedCounts, foreignCounts);
  const ledgerAfter = (revoking: typeof revokes) => {
    const ledger = new CapacityLedger(existing, { cidrs: placing, counted });
    // The applier revokes before the authorizes that need the room revokes free, so that room is usable in the same pass.
    for (const { rule } of revoking) ledger.remove(rule);
    return ledger;
  };
  let ledger = ledgerAfter(revokes);

  // A group that does not exist takes nothing: placement passes it by as it passes a full one, so the
  // search from an instance's own group lands where an agent that found out from AWS would land too.
  const gone = saidMissing(input);
  const missing = missingByTarget(gone, known);
  const pools = new Map<string, Pool>(
    known.targets.map((t) => [t.name, { groupIds: [...(known.poolIndex.get(t.name)?.keys() ?? [])], quota: t.quota, missing: missing.get(t.name) }]),
  );
  // A member no group can take for want of any group that exists is not short of room.
  const noGroup = (name: string) => {
    const pool = pools.get(name);
    return pool !== undefined && pool.groupIds.length > 0 && pool.groupIds.every((g) => pool.missing?.has(g) === true);
  };
  // Every pass starts a new rule's search at the group its instance id picks: agents booting
  // together spread over the pool instead of racing for one group's last slots, and a
  // controller racing an agent for the same instance picks the same group (decision 0004).
  const full = new Set((input.full ?? []).map((f) => `${f.family} ${f.groupId}`));
  let toPlace = wanted.toPlace;
  const place = () => placeRules(toPlace, (name) => pools.get(name), ledger, { spread: true, ...(full.size > 0 ? { full: (g, f) => full.has(`${f} ${g}`) } : {}) });
  let placement = place();
  // A member whose new rule (a port range, family or target name changed) found no room keeps the rule it has:
  // revoking it would leave the member with neither, and hand its room to another member. Keeping
  // it takes room back, which may block another member's replacement, so placement runs again
  // until no more are kept; each run keeps more, so this ends, and nearly always after none.
  for (;;) {
    const blocked = new Set(placement.blocked.map((r) => memberKey(r.target, r.instanceId)));
    const replaced = blocked.size === 0 ? [] : revokes.filter(({ revoke }) => isReplaced(revoke.reason) && blocked.has(memberKey(revoke.target, revoke.instanceId)));
    if (replaced.length === 0) break;
    const keeping = new Set(replaced);
    revokes = revokes.filter((r) => !keeping.has(r));
    for (const { revoke: r } of replaced) {
      const detail = `it is being replaced (${r.reason}), but instance ${r.instanceId ?? ''}'s new rule found no room in the pool; it stays until that rule is placed`;
      kept.push(keptInstead(r, 'replacement-blocked', detail));
    }
    ledger = ledgerAfter(revokes);
    placement = place();
  }
  // The blast radius guards fleet-wide passes, judged on what the pass would revoke in the end (after
  // the replacements kept above). An instance-scoped pass can only touch that one instance's own rules,
  // so it is never a blast. A halted pass places its rules without the room its revokes would free.
  // A rule wider than one address is no member's rule, whatever its tags say: revoking it cannot shut a
  // member out, so it neither counts against the limit nor among the managed rules the fraction is of,
  // and goes in a halted pass too. Anyone allowed to add rules with sgsync's tags could otherwise open a
  // group to the world and hold it open with a few rules naming instances that do not exist.
  const limit = scope.kind === 'all' ? revokeLimit(input.safety?.revokeLimit, managedTotal - wideTotal) : undefined;
  let halted: Plan['halted'];
  let withheld: DesiredRule[] = [];
  const limited = limit === undefined || wideTotal === 0 ? revokes : revokes.filter((r) => countsAgainstLimit(r.revoke));
  if (limit !== undefined && limited.length > limit && input.safety?.force !== true) {
    halted = { reason: 'blast-radius', wouldRevoke: limited.length, limit, managed: managedTotal - wideTotal };
    kept = kept.concat(heldBack(limited.map((r) => r.revoke), halted));
    // A change of ports, families or a target's name that the limit holds back is held back whole: the members keep the
    // rules they have and get no new ones, or the next pass would count the new rules in the fraction and
    // revoke the old ones unforced. New members, with nothing held back, are admitted as ever.
    const changing = replacingMembers(limited.map((r) => r.revoke));
    if (changing.size > 0) {
      withheld = toPlace.filter((r) => changing.has(memberKey(r.target, r.instanceId)));
      toPlace = toPlace.filter((r) => !changing.has(memberKey(r.target, r.instanceId)));
    }
    revokes = wideTotal === 0 ? [] : revokes.filter((r) => !countsAgainstLimit(r.revoke));
    ledger = ledgerAfter(revokes);
    placement = place();
  }
  const authorizes = placement.placed.map(({ rule, groupId }): PlannedRule => {
    const { target, instanceId, memberRegion, family, port, cidr } = rule;
    // Spelled out rather than spread: a cold pass builds a hundred thousand of these.
    return { target, instanceId, memberRegion, family, port, cidr, groupId, description: ruleDescription(deployment, rule), tags: ownershipTags(deployment, rule, now.iso) };
  });
  const regionOf = (item: { target: string }) => rulesOf.get(item.target)?.target.region ?? '';

  const revokeItems = sortByKey(revokes, (r) => r.rule.ruleId);
  for (const { revoke } of revokes) retiredCounts.revoke(revoke.ruleId);
  const retired = retiredCounts.lines(known.targets, known.retired, (t, g) => gone.has(`${t.region} ${g}`));
  return {
    deployment,
    scope,
    at: now.iso,
    // A call's rules share one tag set: a group two targets share gets a call per target.
    authorize: toBatches(authorizes, regionOf, (r) => r.target),
    revoke: toBatches(
      revokeItems.map((r) => r.revoke),
      regionOf,
    ),
    // Spelled out rather than spread: at fleet scale this list is long.
    blocked: [...placement.blocked.map((r) => asBlocked(r, noGroup(r.target) ? 'no-group' : 'capacity')), ...withheld.map((r) => asBlocked(r, 'halted'))],
    refused: wanted.refused,
    kept: sortByKey(kept, (k) => k.ruleId),
    foreign: sortByKey(foreign, (f) => `${f.groupId}\u0000${f.ruleId}`),
    capacity: capacityLines({ targets: known.targets, managed: managedCounts, foreign: foreignCounts, after: (g, f) => ledger.used(g, f), missing: (t, g) => missing.get(t.name)?.has(g) === true }),
    missing: known.targets.flatMap((t) => [...(missing.get(t.name) ?? [])].map((groupId) => ({ target: t.name, groupId, region: t.region }))),
    ...(retired.length > 0 ? { retired } : {}),
    ...(halted ? { halted } : {}),
    warnings: [...warnings].sort(),
  };
}
