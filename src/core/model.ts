/**
 * sgsync's domain model: members, targets, rules and plans. Pure data, shared
 * by the agent, the controller and the dashboard. Nothing here does I/O.
 */

/** IPv4 and IPv6 rules count against separate quotas in AWS. */
export type Family = 'ipv4' | 'ipv6';

/** Which address of a member a target admits. */
export type AddressKind = 'public' | 'private';

/** EC2's canonical protocol names; '-1' is "all traffic". */
export type Protocol = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | '-1';

/** One port range (or ICMP type/code pair) a target admits. `-1`/`-1` for all ports. */
export interface PortSpec {
  protocol: Protocol;
  fromPort: number;
  toPort: number;
}

/** Every state EC2 gives an instance, in lifecycle order. */
export const INSTANCE_STATES = ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

/** An EC2 instance as sgsync sees it, from DescribeInstances or IMDS. */
export interface Member {
  instanceId: string;
  region: string;
  accountId?: string;
  state: InstanceState;
  publicIpv4?: string;
  privateIpv4?: string;
  ipv6: string[];
  tags: Record<string, string>;
  launchTime?: string;
  instanceType?: string;
}

/** Which instances belong to a target. An empty selector selects every instance. */
export interface MemberSelector {
  /** Only instances in these regions; undefined means any region. */
  regions?: string[];
  /** Every listed tag must match one of its values (`*` matches any value). */
  tags?: Record<string, string[]>;
}

/** A named allow-list in one region: a pool of groups that admits its members. */
export interface Target {
  name: string;
  region: string;
  /** Security groups in pool order: new rules go to the first with room (an instance-scoped pass starts at a group its id picks, decision 0004). */
  groupIds: string[];
  /**
   * Groups the target no longer uses (`retiredGroups`): nothing is placed in
   * them, and its managed rules there are revoked (`group-retired`) once
   * their members hold their rules in the pool, or need none.
   */
  retiredGroupIds?: string[];
  ports: PortSpec[];
  families: Family[];
  address: AddressKind;
  /** Inbound rules per group per family. */
  quota: number;
  selector: MemberSelector;
}

/** An ingress rule as read from AWS (managed or foreign). */
export interface ObservedRule {
  ruleId: string;
  groupId: string;
  family: Family;
  protocol: string;
  fromPort: number;
  toPort: number;
  /** CIDR for address rules; undefined for rules that reference a group or prefix list. */
  cidr?: string;
  description?: string;
  tags: Record<string, string>;
}

/** One rule sgsync wants to exist, before it is placed in a group. */
export interface DesiredRule {
  target: string;
  instanceId: string;
  memberRegion: string;
  family: Family;
  port: PortSpec;
  /** /32 or /128. */
  cidr: string;
}

/** Which slice of the world a pass owns. Rules outside the scope are never touched. */
export type Scope =
  | { kind: 'all' }
  | {
      kind: 'instance';
      instanceId: string;
      /**
       * The instance is leaving (agent `deregister`): its desired set is empty and
       * every rule it owns is revoked with reason `deregistered`, without grace.
       */
      deregister?: boolean;
    };

/**
 * What a pass knows about each member region's inventory (safety rule 2).
 * `listedAt` (epoch ms): when the listing that describes the region's
 * instances was asked for. A rule registered after that is not judged by it
 * (see `decideUnmatched`); without it, the listing is taken to be current.
 */
export type RegionInventory = { status: 'complete'; listedAt?: number } | { status: 'failed'; reason: string };

export type RevokeReason =
  | 'instance-terminated'
  | 'instance-stopped'
  | 'instance-gone'
  | 'address-changed'
  | 'not-selected'
  | 'port-removed'
  /** Tagged for a target the configuration no longer defines (renamed or removed). */
  | 'target-removed'
  /** In a group its target's pool no longer holds (the group moved to another target's pool). */
  | 'not-in-pool'
  /** In a group its target retired (`retiredGroups`), and its member holds its rule in the pool or is about to. */
  | 'group-retired'
  | 'duplicate'
  | 'deregistered'
  /** Tagged as this deployment's, but not a rule sgsync writes: wider than one address, or naming no region. */
  | 'malformed';

/**
 * Why a stale-looking rule stays: `grace` (young, or registered after its
 * instance was listed), `region-unavailable` (its instance's region was not
 * listed), `blast-radius` (the pass was halted), `replacement-blocked` (it
 * is being replaced after a change of ports, families or the target's name,
 * or sits in a group its target retired, but the member's new rule found no
 * room: revoking it would leave the member with neither).
 */
export type KeepReason = 'grace' | 'region-unavailable' | 'blast-radius' | 'replacement-blocked';

/** A rule to authorize, fully described: where, what, and the tags that make it managed. */
export interface PlannedRule extends DesiredRule {
  groupId: string;
  description: string;
  tags: Record<string, string>;
}

export interface PlannedRevoke {
  ruleId: string;
  groupId: string;
  target: string;
  family: Family;
  cidr?: string;
  port: PortSpec;
  instanceId?: string;
  memberRegion?: string;
  reason: RevokeReason;
}

export interface GroupBatch<T> {
  groupId: string;
  /** The region the group lives in (the target's region). */
  region: string;
  items: T[];
}

/**
 * A member's rule no group of the pool can take: `capacity` when the groups
 * that exist are full, `no-group` when none of the pool's groups exists.
 */
/**
 * Why a rule a member needs is not planned: `capacity` (no group of the pool
 * has room), `no-group` (no group of the pool exists), `halted` (the member's
 * ports or families changed, and the blast radius holds the change back).
 */
export type BlockedReason = 'capacity' | 'no-group' | 'halted';

export interface BlockedRule extends DesiredRule {
  reason: BlockedReason;
}

/** A security group EC2 does not know in the given region: a typo in the configuration, or a group deleted. */
export interface MissingGroup {
  groupId: string;
  region: string;
}

/** A member that cannot be admitted for a reason no capacity would fix (safety rule 5). */
export interface RefusedMember {
  target: string;
  instanceId: string;
  memberRegion: string;
  reason: 'no-public-address' | 'no-private-address' | 'no-ipv6-address' | 'address-not-public' | 'address-not-private' | 'invalid-address';
  detail: string;
}

export interface KeptRule {
  ruleId: string;
  groupId: string;
  target: string;
  /** The rule's address (absent for a rule of another kind, such as a prefix list) and ports, as it stands in the group. */
  cidr?: string;
  port: PortSpec;
  instanceId?: string;
  /** The member's region: where the instance is listed, else what the rule says (absent when neither is known). */
  memberRegion?: string;
  reason: KeepReason;
  detail: string;
  /**
   * For a rule the blast radius holds back: what the pass would have revoked
   * it as. Held rules are stale for different reasons, and a terminated
   * instance's rule asks for other action than one with a changed address.
   */
  wouldRevoke?: RevokeReason;
}

export interface ForeignRule {
  ruleId: string;
  groupId: string;
  target: string;
  family: Family;
  protocol: string;
  fromPort: number;
  toPort: number;
  cidr?: string;
  description?: string;
  /** Open to the world (0.0.0.0/0 or ::/0). */
  dangerous: boolean;
}

export interface CapacityLine {
  target: string;
  groupId: string;
  family: Family;
  quota: number;
  /** Inbound rules of this family in the group, managed or not, before the pass. */
  before: number;
  /** After the plan is applied. */
  after: number;
  managed: number;
  foreign: number;
  /** The group does not exist: its zero rules are no room, and nothing is placed in it. */
  missing?: true;
}

/**
 * One retired group of a target (`retiredGroups`): how many of the target's
 * managed rules it holds before the pass and after it. Zero left: the group
 * is drained, and the key can go.
 */
export interface RetiredGroupLine {
  target: string;
  groupId: string;
  region: string;
  /** The target's managed rules in the group before the pass. */
  rules: number;
  /** Once the plan is applied. */
  left: number;
  /** EC2 says the group does not exist: nothing of it is left to drain. */
  missing?: true;
}

/** The result of planning: everything a pass would do and everything it refused to do, with reasons. */
export interface Plan {
  deployment: string;
  scope: Scope;
  /** Sandbox- or wall-clock time the plan was made for (ISO 8601). */
  at: string;
  authorize: GroupBatch<PlannedRule>[];
  revoke: GroupBatch<PlannedRevoke>[];
  blocked: BlockedRule[];
  refused: RefusedMember[];
  kept: KeptRule[];
  foreign: ForeignRule[];
  capacity: CapacityLine[];
  /** Groups of a target's pool that do not exist (see `PlanInput.missing`), once per target whose pool lists them. */
  missing: (MissingGroup & { target: string })[];
  /** The retired groups of every target that has some (absent when none has). */
  retired?: RetiredGroupLine[];
  /** Set when the blast-radius rule emptied the revoke list. */
  halted?: { reason: 'blast-radius'; wouldRevoke: number; limit: number; managed: number };
  warnings: string[];
}

/** The safety policy of a pass: the grace period and the blast-radius limit. */
export interface SafetySettings {
  /** Rules younger than this (by `sgsync:registered-at`) survive an invisible instance. */
  graceSeconds: number;
  /** A pass that would revoke more than this revokes none of them (rules wider than one address are not counted); both set means the stricter wins. */
  revokeLimit: { count?: number; fraction?: number };
  /** Revoke even beyond the limit. */
  force: boolean;
}

/** Everything the planner needs; it reads nothing else. */
export interface PlanInput {
  deployment: string;
  targets: Target[];
  /** Every known instance of the member regions, in any state (stopped and terminated ones explain revokes). */
  members: Member[];
  /** Outcome of each member region's inventory; a region missing here counts as unavailable. */
  regionInventory: Record<string, RegionInventory>;
  /** Every inbound rule of every target group, managed or foreign. */
  observed: ObservedRule[];
  scope: Scope;
  /** The pass's time: ISO 8601 or epoch milliseconds. */
  now: string | number;
  safety: SafetySettings;
  /**
   * Groups AWS refused a rule in as over its quota earlier in this pass
   * (`RulesPerSecurityGroupLimitExceeded`), with the families refused:
   * nothing more is placed there, whatever `quota` says.
   */
  full?: readonly { groupId: string; family: Family }[];
  /**
   * Groups EC2 says do not exist in their region (a listing of the pools'
   * groups left them out, or AWS refused a rule there as
   * `InvalidGroup.NotFound`): nothing is placed there, and the plan names
   * them. A group whose rules were read exists, whatever this says.
   */
  missing?: readonly MissingGroup[];
}

