import type { GroupBatch, Member, ObservedRule, PlannedRevoke, PlannedRule } from './model.js';

/** A describe filter as EC2 takes it: values OR'd, filters AND'd; in values `*` and `?` are wildcards and `\` escapes. */
export interface ListFilter {
  Name: string;
  Values: string[];
}

/** EC2 takes at most this many values in one request's filters, all filters together. */
export const MAX_FILTER_VALUES = 200;
/** EC2's longest filter value, in characters (a tag value may be 256). */
export const MAX_FILTER_VALUE_LENGTH = 255;

/**
 * What the engine needs from EC2. `aws/` implements it with the SDK; tests
 * may implement it in memory. Every method is per region, because security
 * groups and instances are regional.
 */
export interface Ec2Port {
  /**
   * Regions enabled for the account, as the region `via` answers
   * (DescribeRegions): one of the account's own, so that another partition
   * or a policy denying other regions does not stop the listing.
   */
  enabledRegions(via?: string): Promise<string[]>;
  /**
   * Every instance in a region (all states AWS still shows), or only the given
   * ids, or only those the filters let through (ids and filters together: both).
   * An aborted `signal` ends the listing with an error, calls in flight included.
   */
  listMembers(region: string, options?: { instanceIds?: string[]; filters?: ListFilter[]; signal?: AbortSignal }): Promise<Member[]>;
  /**
   * Every inbound rule of the given groups, managed or foreign. A group that
   * does not exist has none: EC2 does not check the ids it filters by.
   */
  listRules(region: string, groupIds: readonly string[]): Promise<ObservedRule[]>;
  /**
   * Those of the given groups that exist in the region. Optional: a port
   * that cannot tell leaves it out, and a pass then finds a group that does
   * not exist only when AWS refuses a change there.
   */
  existingGroups?(region: string, groupIds: readonly string[]): Promise<string[]>;
  /** Authorizes one group's batch in one call. Idempotent: a duplicate is reported, not thrown. */
  authorize(batch: GroupBatch<PlannedRule>): Promise<AuthorizeOutcome>;
  /** Revokes one group's batch by rule id in one call. Idempotent: missing rules are reported, not thrown. */
  revoke(batch: GroupBatch<PlannedRevoke>): Promise<RevokeOutcome>;
}

export interface AuthorizeOutcome {
  /** The rules AWS created. */
  created: { ruleId: string; cidr: string; protocol: string; fromPort: number; toPort: number }[];
  /** AWS refused the batch because a rule already exists; nothing was added. Re-observe and plan again. */
  duplicate: boolean;
}

export interface RevokeOutcome {
  revoked: string[];
  /** AWS refused the batch because a rule no longer exists; re-observe and plan again. */
  notFound: boolean;
}

/** What the agent needs from the instance it runs on (IMDSv2). */
export interface InstancePort {
  /** This instance as a member, from the identity document and metadata. */
  self(): Promise<Member>;
  /** The spot interruption notice, if any. */
  spotNotice(): Promise<{ action: string; time: string } | undefined>;
  /** The Auto Scaling target lifecycle state, if the instance is in a group. */
  lifecycleState(): Promise<string | undefined>;
}
