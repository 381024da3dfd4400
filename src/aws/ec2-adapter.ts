import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeRegionsCommand,
  paginateDescribeInstances,
  paginateDescribeSecurityGroupRules,
  paginateDescribeSecurityGroups,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
  type SecurityGroupRule,
  type Tag,
} from '@aws-sdk/client-ec2';
import { parseCidr } from '../core/addresses.js';
import { isSgsyncError, SgsyncError } from '../core/errors.js';
import { INSTANCE_ID_PATTERN } from '../core/instance-id-index.js';
import { orderIpv6 } from '../core/ipv6-order.js';
import { commonTags } from '../core/ownership.js';
import type { GroupBatch, Member, ObservedRule, PlannedRevoke, PlannedRule } from '../core/model.js';
import { MAX_FILTER_VALUES, type AuthorizeOutcome, type Ec2Port, type ListFilter, type RevokeOutcome } from '../core/ports.js';
import type { LoadedConfig } from '../config/load.js';
import { Ec2Clients, type AwsOptions } from './clients.js';
import type { ListedInstance } from './listing-protocol.js';
import { errorName, isAlreadyDone, mapAwsError, type CallContext } from './errors.js';

const PAGE = 1000;
/** Pages one listing may take: a million items, far beyond any real region, yet an end to a listing that never ends. */
export const MAX_PAGES = 1000;

/**
 * Walks a paginator, refusing a page token EC2 gave before and a listing
 * longer than `maxPages`: the SDK's paginator would follow a looping
 * NextToken forever.
 */
async function* bounded<T extends { NextToken?: string }>(pages: AsyncIterable<T>, what: string, maxPages: number): AsyncGenerator<T> {
  const seen = new Set<string>();
  let count = 0;
  for await (const page of pages) {
    if (++count > maxPages) throw new SgsyncError('AWS_UNAVAILABLE', `EC2 kept paging ${what} past ${maxPages} pages; the listing was abandoned.`);
    const token = page.NextToken;
    if (token !== undefined && token !== '') {
      if (seen.has(token)) throw new SgsyncError('AWS_UNAVAILABLE', `EC2 gave the same page token twice while listing ${what}; the listing was abandoned.`);
      seen.add(token);
    }
    yield page;
  }
}

function tagsToRecord(tags: Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** True for a /32 of an IPv4 address or a /128 of an IPv6 one, of the family the rule claims. */
function isHostCidrOfFamily(cidr: unknown, family: string): boolean {
  const parsed = typeof cidr === 'string' ? parseCidr(cidr) : undefined;
  return parsed !== undefined && parsed.family === family && parsed.prefixLength === (family === 'ipv4' ? 32 : 128);
}

/** Converts an EC2 instance to a member. */
export function toMember(region: string, i: ListedInstance, accountId?: string): Member | undefined {
  if (!i.InstanceId) return undefined;
  // An inventory that names an instance wrongly is not an inventory: failing the region keeps its members' rules (safety rule 2).
  if (!INSTANCE_ID_PATTERN.test(i.InstanceId)) {
    throw new SgsyncError('AWS_UNAVAILABLE', `EC2 listed an instance in ${region} whose id ${JSON.stringify(i.InstanceId.slice(0, 40))} is not an instance id.`);
  }
  // Every interface's addresses, ordered as the agent orders what IMDS shows (see orderIpv6), not as listed.
  const interfaces = (i.NetworkInterfaces ?? []).map((eni) => ({ primary: eni.Attachment?.DeviceIndex === 0, addresses: (eni.Ipv6Addresses ?? []).map((a) => a.Ipv6Address) }));
  // The instance's own address is one of its primary interface's; a listing without interfaces still names it.
  interfaces.push({ primary: true, addresses: [i.Ipv6Address] });
  return {
    instanceId: i.InstanceId,
    region,
    accountId,
    state: i.State?.Name ?? 'pending',
    publicIpv4: i.PublicIpAddress,
    privateIpv4: i.PrivateIpAddress,
    ipv6: orderIpv6(interfaces),
    tags: tagsToRecord(i.Tags),
    launchTime: i.LaunchTime?.toISOString(),
    instanceType: i.InstanceType,
  };
}

/** Converts an EC2 security group rule to an observed rule. */
export function toObservedRule(r: SecurityGroupRule): ObservedRule | undefined {
  if (!r.SecurityGroupRuleId || !r.GroupId) return undefined;
  const cidr = r.CidrIpv6 ?? r.CidrIpv4;
  return {
    ruleId: r.SecurityGroupRuleId,
    groupId: r.GroupId,
    // The address decides the family (and so the quota it counts against), whichever field carried it.
    family: (cidr !== undefined ? parseCidr(cidr)?.family : undefined) ?? (r.CidrIpv6 ? 'ipv6' : 'ipv4'),
    protocol: r.IpProtocol ?? '-1',
    fromPort: r.FromPort ?? -1,
    toPort: r.ToPort ?? -1,
    cidr,
    description: r.Description,
    tags: tagsToRecord(r.Tags),
  };
}

/** Groups a batch into IpPermissions: one per protocol and port range, many ranges each. */
export function toIpPermissions(items: readonly PlannedRule[]): IpPermission[] {
  const byPort = new Map<string, IpPermission>();
  for (const r of items) {
    const key = `${r.port.protocol} ${r.port.fromPort} ${r.port.toPort}`;
    let perm = byPort.get(key);
    if (!perm) {
      perm =
        r.port.protocol === '-1'
          ? { IpProtocol: '-1' }
          : { IpProtocol: r.port.protocol, FromPort: r.port.fromPort, ToPort: r.port.toPort };
      byPort.set(key, perm);
    }
    if (r.family === 'ipv4') (perm.IpRanges ??= []).push({ CidrIp: r.cidr, Description: r.description });
    else (perm.Ipv6Ranges ??= []).push({ CidrIpv6: r.cidr, Description: r.description });
  }
  return [...byPort.values()];
}

/** The EC2 side of sgsync, through the AWS SDK. */
export class Ec2Adapter implements Ec2Port {
  readonly clients: Ec2Clients;
  private readonly maxPages: number;
  /** The named profile credentials come from, for messages about them. */
  private readonly profile: string | undefined;

  constructor(options: AwsOptions & { maxPages?: number } = {}, clients?: Ec2Clients) {
    this.clients = clients ?? new Ec2Clients(options);
    this.maxPages = options.maxPages ?? MAX_PAGES;
    this.profile = options.profile;
  }

  private fail(e: unknown, ctx: CallContext): SgsyncError {
    return mapAwsError(e, { ...ctx, ...(this.profile ? { profile: this.profile } : {}) });
  }

  /**
   * The pages of one listing (`bounded`: `what` names it in the error when
   * it never ends), with AWS's errors, from opening the paginator on, made
   * sgsync's for `ctx`.
   */
  private async *pages<T extends { NextToken?: string }>(open: () => AsyncIterable<T>, what: string, ctx: CallContext): AsyncGenerator<T> {
    try {
      yield* bounded(open(), what, this.maxPages);
    } catch (e) {
      if (isSgsyncError(e)) throw e;
      throw this.fail(e, ctx);
    }
  }

  /** Regions are listed through `via`: by default us-east-1, which every account of the commercial partition has. */
  async enabledRegions(via = 'us-east-1'): Promise<string[]> {
    try {
      const out = await this.clients.get(via).send(new DescribeRegionsCommand({}));
      return (out.Regions ?? []).map((r) => r.RegionName).filter((n): n is string => !!n).sort();
    } catch (e) {
      throw this.fail(e, { action: 'DescribeRegions', region: via });
    }
  }

  async listMembers(region: string, options: { instanceIds?: string[]; filters?: ListFilter[]; signal?: AbortSignal } = {}): Promise<Member[]> {
    const members: Member[] = [];
    const given = options.filters ?? [];
    // Ids share the request's filter values with the filters given.
    const room = Math.max(1, MAX_FILTER_VALUES - given.reduce((n, f) => n + f.Values.length, 0));
    for (const ids of options.instanceIds ? chunk(options.instanceIds, room) : [undefined]) {
      // Ids go in a filter, not InstanceIds, so that one missing id is not an error and pages stay bounded.
      const filters: ListFilter[] = [...given, ...(ids ? [{ Name: 'instance-id', Values: ids }] : [])];
      const open = () =>
        paginateDescribeInstances(
          { client: this.clients.get(region), pageSize: PAGE },
          { MaxResults: PAGE, ...(filters.length ? { Filters: filters } : {}) },
          ...(options.signal ? [{ abortSignal: options.signal }] : []),
        );
      for await (const page of this.pages(open, `the instances of ${region}`, { action: 'DescribeInstances', region })) {
        for (const reservation of page.Reservations ?? []) {
          for (const instance of reservation.Instances ?? []) {
            const m = toMember(region, instance, reservation.OwnerId);
            if (m) members.push(m);
          }
        }
      }
    }
    return members;
  }

  async listRules(region: string, groupIds: readonly string[]): Promise<ObservedRule[]> {
    const rules: ObservedRule[] = [];
    for (const ids of chunk(groupIds, MAX_FILTER_VALUES)) {
      const open = () => paginateDescribeSecurityGroupRules({ client: this.clients.get(region), pageSize: PAGE }, { Filters: [{ Name: 'group-id', Values: ids }], MaxResults: PAGE });
      for await (const page of this.pages(open, `the rules of ${ids.join(', ')} in ${region}`, { action: 'DescribeSecurityGroupRules', region, groupId: ids.join(',') })) {
        for (const r of page.SecurityGroupRules ?? []) {
          if (r.IsEgress) continue;
          const rule = toObservedRule(r);
          if (rule) rules.push(rule);
        }
      }
    }
    return rules;
  }

  /**
   * DescribeSecurityGroups with a `group-id` filter, 200 ids a call: EC2
   * lists the groups that exist and leaves the others out (asked by
   * `GroupIds` instead, it would refuse the whole call over one unknown id,
   * and without paging). One call per region for any pool within EC2's limits.
   */
  async existingGroups(region: string, groupIds: readonly string[]): Promise<string[]> {
    const found: string[] = [];
    for (const ids of chunk(groupIds, MAX_FILTER_VALUES)) {
      const open = () => paginateDescribeSecurityGroups({ client: this.clients.get(region), pageSize: PAGE }, { Filters: [{ Name: 'group-id', Values: ids }], MaxResults: PAGE });
      for await (const page of this.pages(open, `the security groups ${ids.join(', ')} in ${region}`, { action: 'DescribeSecurityGroups', region })) {
        for (const g of page.SecurityGroups ?? []) if (g.GroupId) found.push(g.GroupId);
      }
    }
    return found;
  }

  async authorize(batch: GroupBatch<PlannedRule>): Promise<AuthorizeOutcome> {
    if (batch.items.length === 0) return { created: [], duplicate: false };
    // The last line of safety rule 5: whatever built the batch, nothing wider than one address leaves this process.
    const wide = batch.items.find((r) => !isHostCidrOfFamily(r.cidr, r.family));
    if (wide) {
      throw new SgsyncError('REFUSED', `Refusing to authorize ${JSON.stringify(wide.cidr)} on ${batch.groupId} in ${batch.region}: sgsync only adds rules for one address (/32 or /128).`, {
        details: { groupId: batch.groupId, cidr: wide.cidr, instanceId: wide.instanceId },
      });
    }
    const tags = commonTags(batch.items);
    try {
      const out = await this.clients.get(batch.region).send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: batch.groupId,
          IpPermissions: toIpPermissions(batch.items),
          TagSpecifications: [
            { ResourceType: 'security-group-rule', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
          ],
        }),
      );
      return {
        created: (out.SecurityGroupRules ?? []).map((r) => ({
          ruleId: r.SecurityGroupRuleId ?? '',
          cidr: r.CidrIpv4 ?? r.CidrIpv6 ?? '',
          protocol: r.IpProtocol ?? '-1',
          fromPort: r.FromPort ?? -1,
          toPort: r.ToPort ?? -1,
        })),
        duplicate: false,
      };
    } catch (e) {
      if (isAlreadyDone('AuthorizeSecurityGroupIngress', errorName(e))) return { created: [], duplicate: true };
      throw this.fail(e, { action: 'AuthorizeSecurityGroupIngress', region: batch.region, groupId: batch.groupId });
    }
  }

  async revoke(batch: GroupBatch<PlannedRevoke>): Promise<RevokeOutcome> {
    if (batch.items.length === 0) return { revoked: [], notFound: false };
    try {
      const out = await this.clients.get(batch.region).send(
        new RevokeSecurityGroupIngressCommand({ GroupId: batch.groupId, SecurityGroupRuleIds: batch.items.map((r) => r.ruleId) }),
      );
      const revoked = (out.RevokedSecurityGroupRules ?? []).map((r) => r.SecurityGroupRuleId ?? '').filter(Boolean);
      return { revoked: revoked.length ? revoked : batch.items.map((r) => r.ruleId), notFound: false };
    } catch (e) {
      if (isAlreadyDone('RevokeSecurityGroupIngress', errorName(e))) return { revoked: [], notFound: true };
      throw this.fail(e, { action: 'RevokeSecurityGroupIngress', region: batch.region, groupId: batch.groupId });
    }
  }
}

/**
 * An EC2 adapter for every region, with the configuration's `aws` section
 * (endpoint, profile, pacing) as every command and the Lambda apply it; an
 * option given here wins over it (`--endpoint`, `--profile`). Without an
 * endpoint, the SDK's own chain applies (`AWS_ENDPOINT_URL`, profiles, the
 * instance role).
 */
export function createEc2Adapter(options: AwsOptions & { config?: LoadedConfig } = {}): Ec2Adapter {
  const { config, ...given } = options;
  const aws = config?.config.aws;
  return new Ec2Adapter({ ...given, endpoint: given.endpoint ?? aws?.endpoint, profile: given.profile ?? aws?.profile, pacing: given.pacing ?? aws?.pacing });
}
