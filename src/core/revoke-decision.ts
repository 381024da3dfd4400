/**
 * What happens to a managed rule that no desired rule claims: revoked (and
 * why), kept (and why), or left alone. This is where "unknown is not gone"
 * (rule 2) and grace (rule 3) are decided, rule by rule.
 */
import { portServes, samePort } from './rule-key.js';
import type { KeepReason, Member, ObservedRule, RegionInventory, RevokeReason } from './model.js';
import { holdsCidr, type TargetRules } from './desired.js';
import { registeredAtMs, TAG } from './ownership.js';
import { graceMs, withinGrace } from './safety.js';
import { isHostCidr } from './addresses.js';
import { excludesRegion } from './selector.js';

export type Decision =
  | { action: 'revoke'; reason: RevokeReason }
  | { action: 'keep'; reason: KeepReason; detail: string }
  | { action: 'leave' };

/** Whose rule it is, as `ruleMember` read it. */
export interface RuleOwner {
  instanceId: string;
  /** The member region the rule names, if any. */
  memberRegion: string | undefined;
}

export interface DecisionContext {
  members: { get(instanceId: string): Member | undefined };
  regionInventory: Record<string, RegionInventory>;
  nowMs: number;
  graceSeconds: number;
  /** The pass is the instance's own deregistration. */
  deregister: boolean;
}

/**
 * Decides the fate of one managed, in-scope rule of a target that matches no
 * desired rule. Facts that do not depend on inventory come first (the
 * target's ports and regions); then a visible instance's state decides,
 * regardless of grace; an invisible instance's rule is kept while its region
 * is unknown or the rule is young, and only then counts as gone.
 */
export function decideUnmatched(rule: ObservedRule, t: TargetRules, owner: RuleOwner, ctx: DecisionContext): Decision {
  if (ctx.deregister) return { action: 'revoke', reason: 'deregistered' };
  // Whoever wrote it, sgsync did not: it admits only single addresses. Revoked at once, grace or not.
  if (!isHostCidr(rule.cidr)) return { action: 'revoke', reason: 'malformed' };
  // A port of the target paired with a family it cannot serve (ICMPv6 to an IPv4 address) is no port of the target's either.
  if (!t.families.includes(rule.family) || !t.ports.some((p) => samePort(p, rule) && portServes(p, rule.family))) return { action: 'revoke', reason: 'port-removed' };
  const { target } = t;
  const { instanceId } = owner;

  const member = ctx.members.get(instanceId);
  const region = member?.region ?? owner.memberRegion;
  if (region !== undefined && excludesRegion(target.selector, region)) return { action: 'revoke', reason: 'not-selected' };

  if (member) {
    const decision = decideByListing(rule, t, member);
    // A terminated instance never comes back; any other listed fact may be older than the rule.
    if (decision.action !== 'revoke' || decision.reason === 'instance-terminated') return decision;
    const newer = registeredSinceListed(rule, member, ctx);
    return newer === undefined ? decision : { action: 'keep', reason: 'grace', detail: newer };
  }

  if (region === undefined) {
    // sgsync names the member's region in every rule it writes; one that names none is not its own. Kept while young all the same.
    if (!withinGrace(registeredAtMs(rule), ctx.nowMs, ctx.graceSeconds)) return { action: 'revoke', reason: 'malformed' };
    return { action: 'keep', reason: 'region-unavailable', detail: `instance ${instanceId} is not visible and the rule names no region (no ${TAG.region} tag, no sgsync description); it is younger than ${ctx.graceSeconds}s` };
  }
  const inventory = ctx.regionInventory[region];
  if (inventory?.status !== 'complete') {
    const why = inventory?.status === 'failed' ? `inventory of ${region} failed: ${inventory.reason}` : `${region} was not inventoried`;
    return { action: 'keep', reason: 'region-unavailable', detail: `instance ${instanceId} is not visible; ${why}` };
  }
  if (withinGrace(registeredAtMs(rule), ctx.nowMs, ctx.graceSeconds)) {
    return { action: 'keep', reason: 'grace', detail: `instance ${instanceId} is not visible yet; the rule is younger than ${ctx.graceSeconds}s` };
  }
  return { action: 'revoke', reason: 'instance-gone' };
}

/** What a listed instance's state, tags and address say of its rule. */
function decideByListing(rule: ObservedRule, t: TargetRules, member: Member): Decision {
  switch (member.state) {
    case 'terminated':
      return { action: 'revoke', reason: 'instance-terminated' };
    case 'stopping':
    case 'stopped':
    case 'shutting-down':
      return { action: 'revoke', reason: 'instance-stopped' };
    case 'pending':
    case 'running': {
      if (!t.selects(member)) return { action: 'revoke', reason: 'not-selected' };
      // A rule for any address the member still holds is its rule (see `heldAddresses`); one for an address it lost is stale.
      if (!holdsCidr(t.target, member, rule.family, rule.cidr)) return { action: 'revoke', reason: 'address-changed' };
      // A pending instance keeps the rule it already has; it is admitted anew once running.
      return { action: 'leave' };
    }
    default:
      return { action: 'leave' };
  }
}

/**
 * Why a rule is newer than the listing of its instance, or undefined when it
 * is not. A pass lists the instances once, then reads and re-reads the rules
 * (after a race it plans again, perhaps many seconds later). An agent may
 * register an instance that started, or took a new address, after the
 * listing: the listing then shows it stopped, or at its old address, and
 * revoking on that would shut out a running instance until the next pass.
 * Such a rule is kept, as a young one is, and the next pass decides.
 *
 * No slack is allowed for clocks: the instance's and the pass's are kept by
 * NTP, and an agent registers only after its instance has booted, long after
 * EC2's listings show the start. A rule registered before the listing — by
 * an earlier pass, say, for an instance stopped since — is judged by it.
 */
function registeredSinceListed(rule: ObservedRule, member: Member, ctx: Pick<DecisionContext, 'regionInventory' | 'nowMs' | 'graceSeconds'>): string | undefined {
  const inventory = ctx.regionInventory[member.region];
  const listedAt = inventory?.status === 'complete' ? inventory.listedAt : undefined;
  const registeredAt = registeredAtMs(rule);
  if (listedAt === undefined || registeredAt === undefined || !(registeredAt >= listedAt)) return undefined;
  // A registration time further ahead than the grace period is not believed (see `withinGrace`).
  if (!(registeredAt - ctx.nowMs <= graceMs(ctx.graceSeconds))) return undefined;
  return `the rule was registered at ${new Date(registeredAt).toISOString()}, after instance ${member.instanceId} was listed (${member.state}) at ${new Date(listedAt).toISOString()}; the next pass decides`;
}
