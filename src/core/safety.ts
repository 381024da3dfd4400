/**
 * The numeric safety checks of a pass: how many revokes the blast-radius
 * rule allows (rule 4) and whether a rule is still inside its grace period
 * (rule 3). Kept apart from the planner so each can be read and tested alone.
 */
import { isHostCidr } from './addresses.js';
import type { KeepReason, KeptRule, Plan, PlannedRevoke, RevokeReason, SafetySettings } from './model.js';

/**
 * Whether the blast radius counts a revoke. Only a rule of one address can be
 * a member's rule; one wider (`malformed`) cannot shut a member out, so it is
 * revoked whatever the limit says, in a halted pass too.
 */
export function countsAgainstLimit(revoke: Pick<PlannedRevoke, 'cidr'>): boolean {
  return isHostCidr(revoke.cidr);
}

/**
 * Whether a rule revoked for `reason` has a successor: the same member's new
 * rule in the same target's pool, after a change of the target's ports or
 * families (`port-removed`) or of its name (`target-removed`), or after its
 * group was retired (`group-retired`). Such a rule
 * stays while its successor cannot be placed, is held back with it when the
 * blast radius stops the pass, and goes only once the successor landed: the
 * member is never left with neither. An old address, a stopped instance or a
 * group that left the pool have none.
 */
export function isReplaced(reason: RevokeReason): boolean {
  return reason === 'port-removed' || reason === 'target-removed' || reason === 'group-retired';
}

/**
 * The most revokes one pass may make, or undefined when no limit is set.
 * `fraction` is taken of every rule this deployment manages in the target
 * groups, whatever the pass's scope: it guards the allow-list as a whole, and
 * an agent removing its own one rule is 100% of its scope but not a blast.
 * With both set, the stricter wins. A positive `fraction` allows at least
 * one revoke: half of a deployment of one rule is none, and its only member
 * terminating would halt every pass until forced. Negative or non-numeric
 * settings count as a limit of zero: a garbled policy halts rather than
 * revokes freely; so does `count: 0`, which asks for `--force` every time.
 */
export function revokeLimit(settings: SafetySettings['revokeLimit'] | undefined, managedRules: number): number | undefined {
  const limits: number[] = [];
  const { count, fraction } = settings ?? {};
  if (count !== undefined) limits.push(Number.isFinite(count) && count > 0 ? Math.floor(count) : 0);
  // At least one: a share of a small deployment rounds down to none, and one rule is never a blast.
  if (fraction !== undefined) limits.push(Number.isFinite(fraction) && fraction > 0 ? Math.max(1, Math.floor(fraction * managedRules)) : 0);
  return limits.length === 0 ? undefined : Math.min(...limits);
}

/**
 * True when a rule registered at `registeredAt` is younger than the grace
 * period at `now`. A rule with no readable registration time is old. A rule
 * that claims to come from the future is young while the claim is within
 * the grace period (clocks disagree a little); further ahead, the claim is
 * not believed and the rule is old — else anyone able to tag a rule could
 * make it young for ever. Without a readable `now` nothing can be shown to
 * be old, so every rule is young.
 */
export function withinGrace(registeredAt: number | undefined, nowMs: number, graceSeconds: number): boolean {
  if (!Number.isFinite(nowMs)) return true;
  if (registeredAt === undefined) return false;
  const grace = graceMs(graceSeconds);
  return nowMs - registeredAt < grace && registeredAt - nowMs <= grace;
}

/** The grace period in milliseconds; a garbled or negative setting is none. */
export function graceMs(graceSeconds: number): number {
  return Number.isFinite(graceSeconds) && graceSeconds > 0 ? graceSeconds * 1000 : 0;
}

/** The pass's time as epoch ms and ISO text; NaN when garbled (the planner then warns and plays safe). */
export function readNow(now: string | number): { ms: number; iso: string } {
  const ms = typeof now === 'number' ? now : typeof now === 'string' ? Date.parse(now) : NaN;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return { ms: NaN, iso: String(now) };
  return { ms, iso: new Date(ms).toISOString() };
}

/** A planned revoke, kept instead: the rule as it stands, and why it stays. */
export function keptInstead(r: PlannedRevoke, reason: KeepReason, detail: string): KeptRule {
  return {
    ruleId: r.ruleId,
    groupId: r.groupId,
    target: r.target,
    cidr: r.cidr,
    port: r.port,
    instanceId: r.instanceId,
    ...(r.memberRegion === undefined ? {} : { memberRegion: r.memberRegion }),
    reason,
    detail,
  };
}

/**
 * A halted pass's revokes, as the rules it keeps: why, in the words of the
 * limit, and what each would have been revoked as (`wouldRevoke`, also at the
 * end of `detail` for whatever shows only the text), so that the rules held
 * back can still be told apart by why they are stale.
 */
export function heldBack(revokes: readonly PlannedRevoke[], halted: NonNullable<Plan['halted']>): KeptRule[] {
  const limit = `the pass would revoke ${halted.wouldRevoke} of ${halted.managed} managed rules; the limit is ${halted.limit}`;
  // One text per reason, not per rule: a halted fleet pass may hold back many thousands.
  const details = new Map<RevokeReason, string>();
  const detailOf = (reason: RevokeReason): string => {
    let text = details.get(reason);
    if (text === undefined) details.set(reason, (text = `${limit}; this rule would be revoked as ${reason}`));
    return text;
  };
  return revokes.map((r) => ({ ...keptInstead(r, 'blast-radius', detailOf(r.reason)), wouldRevoke: r.reason }));
}

/**
 * What the rules a halted pass holds back would have been revoked as, most
 * common first: `38 instance-terminated, 2 not-selected`. A wall of one
 * reason says what went wrong upstream (a selector gone wrong shows as
 * `not-selected`, a real scale-in as `instance-terminated`, a changed port
 * as `port-removed`). Empty when no kept rule was held back.
 */
export function heldBackReasons(kept: readonly Pick<KeptRule, 'reason' | 'wouldRevoke'>[]): string {
  const counts = new Map<string, number>();
  for (const k of kept) if (k.reason === 'blast-radius' && k.wouldRevoke) counts.set(k.wouldRevoke, (counts.get(k.wouldRevoke) ?? 0) + 1);
  return [...counts]
    .sort(([a, m], [b, n]) => n - m || (a < b ? -1 : 1))
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');
}

/**
 * A halted pass in one sentence, with what to do about it: what the daemon,
 * the Lambda and the dashboard report (`reconcile` and `plan` print the
 * longer advice of cli/pass-report.ts).
 */
export function haltedText(halted: NonNullable<Plan['halted']>): string {
  return (
    `the pass would revoke ${halted.wouldRevoke} of ${halted.managed} managed rules, over the limit of ${halted.limit}; none of them was revoked. ` +
    'Check why so many rules look stale; if it is right, run `sgsync reconcile --force` once (or raise safety.revokeLimit)'
  );
}
