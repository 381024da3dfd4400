/**
 * An in-memory EC2 and instance for the agent's unit tests: enough of AWS's
 * behaviour (duplicates, NotFound on revoke by id, eventually consistent
 * reads) to drive register, deregister and watch without a network.
 */
import { parseConfig, type LoadedConfig } from '../../src/config/index.js';
import type { AgentDeps } from '../../src/agent/agent-pass.js';
import type { GroupBatch, Member, ObservedRule, PlannedRevoke, PlannedRule } from '../../src/core/model.js';
import { SgsyncError } from '../../src/core/errors.js';
import type { AuthorizeOutcome, Ec2Port, InstancePort, RevokeOutcome } from '../../src/core/ports.js';

/** Security groups of the fake world. */
export const API_GROUP = 'sg-0aaaaaaaaaaaaaaa1';
export const DB_GROUP = 'sg-0bbbbbbbbbbbbbbb2';
export const BATCH_GROUP = 'sg-0ccccccccccccccc3';

export class FakeEc2 implements Ec2Port {
  readonly rules = new Map<string, ObservedRule>();
  /** Rule ids DescribeSecurityGroupRules does not show yet (EC2's reads lag its writes). */
  readonly unlisted = new Set<string>();
  /** New rules stay out of the listing until `catchUp()`. */
  lagging = false;
  /** Thrown by the next authorize calls, one each, before they do anything. */
  readonly authorizeFailures: Error[] = [];
  readonly calls: string[] = [];
  /** Groups that do not exist: a change there is refused as the adapter maps EC2's InvalidGroup.NotFound. */
  readonly missingGroups = new Set<string>();
  private next = 1;

  enabledRegions(): Promise<string[]> {
    return Promise.resolve(['eu-west-1', 'us-east-1']);
  }

  listMembers(): Promise<Member[]> {
    return Promise.resolve([]);
  }

  listRules(_region: string, groupIds: readonly string[]): Promise<ObservedRule[]> {
    this.calls.push('DescribeSecurityGroupRules');
    return Promise.resolve([...this.rules.values()].filter((r) => groupIds.includes(r.groupId) && !this.unlisted.has(r.ruleId)).map((r) => ({ ...r, tags: { ...r.tags } })));
  }

  authorize(batch: GroupBatch<PlannedRule>): Promise<AuthorizeOutcome> {
    this.calls.push('AuthorizeSecurityGroupIngress');
    const failure = this.authorizeFailures.shift();
    if (failure) return Promise.reject(failure);
    if (this.missingGroups.has(batch.groupId)) {
      return Promise.reject(new SgsyncError('NOT_FOUND', `Security group ${batch.groupId} does not exist in ${batch.region}.`, { details: { groupId: batch.groupId, region: batch.region } }));
    }
    const exists = batch.items.some((r) => [...this.rules.values()].some((o) => o.groupId === batch.groupId && o.cidr === r.cidr && o.protocol === r.port.protocol && o.fromPort === r.port.fromPort));
    if (exists) return Promise.resolve({ created: [], duplicate: true });
    const created = batch.items.map((r) => {
      const ruleId = `sgr-${String(this.next++).padStart(17, '0')}`;
      this.rules.set(ruleId, { ruleId, groupId: batch.groupId, family: r.family, protocol: r.port.protocol, fromPort: r.port.fromPort, toPort: r.port.toPort, cidr: r.cidr, description: r.description, tags: { ...r.tags } });
      if (this.lagging) this.unlisted.add(ruleId);
      return { ruleId, cidr: r.cidr, protocol: r.port.protocol, fromPort: r.port.fromPort, toPort: r.port.toPort };
    });
    return Promise.resolve({ created, duplicate: false });
  }

  /** By rule id, as the adapter does: one unknown id and AWS refuses the whole call. */
  revoke(batch: GroupBatch<PlannedRevoke>): Promise<RevokeOutcome> {
    this.calls.push('RevokeSecurityGroupIngress');
    if (batch.items.some((r) => this.rules.get(r.ruleId)?.groupId !== batch.groupId)) return Promise.resolve({ revoked: [], notFound: true });
    for (const r of batch.items) {
      this.rules.delete(r.ruleId);
      this.unlisted.delete(r.ruleId);
    }
    return Promise.resolve({ revoked: batch.items.map((r) => r.ruleId), notFound: false });
  }

  /** The listing shows every rule again. */
  catchUp(): void {
    this.lagging = false;
    this.unlisted.clear();
  }

  /** The rules that name `instanceId`, whether the listing shows them or not. */
  rulesOf(instanceId: string): ObservedRule[] {
    return [...this.rules.values()].filter((r) => r.tags['sgsync:instance'] === instanceId);
  }
}

/** The instance the agent runs on, as IMDS would show it; `onSelf` runs at each read of it, with its number. */
export class FakeInstance implements InstancePort {
  notice: { action: string; time: string } | undefined;
  lifecycle: string | undefined;
  reads = 0;
  onSelf?: (read: number) => void;

  constructor(public member: Member) {}

  self(): Promise<Member> {
    this.onSelf?.(++this.reads);
    return Promise.resolve({ ...this.member, tags: { ...this.member.tags }, ipv6: [...this.member.ipv6] });
  }

  spotNotice(): Promise<{ action: string; time: string } | undefined> {
    return Promise.resolve(this.notice);
  }

  lifecycleState(): Promise<string | undefined> {
    return Promise.resolve(this.lifecycle);
  }
}

export const WORKER: Member = {
  instanceId: 'i-0123456789abcdef0',
  region: 'eu-west-1',
  state: 'running',
  publicIpv4: '52.95.0.1',
  privateIpv4: '10.0.0.5',
  ipv6: [],
  tags: { role: 'worker' },
};

/**
 * Targets in us-east-1 for eu-west-1 members: `api` admits workers by their
 * public address, `db` workers by their private one, `batch` batch
 * instances. `agent` is YAML for the config's agent section.
 */
export function agentConfig(agent = 'waitSeconds: 0'): LoadedConfig {
  const target = (name: string, group: string, port: number, extra: string) =>
    `  - { name: ${name}, region: us-east-1, groups: [${group}], ports: [${port}], members: { regions: [eu-west-1], tags: { role: ${name === 'batch' ? 'batch' : 'worker'} } }${extra} }`;
  return parseConfig(
    ['deployment: prod', 'targets:', target('api', API_GROUP, 443, ''), target('db', DB_GROUP, 5432, ', address: private'), target('batch', BATCH_GROUP, 8080, ''), `agent: { ${agent} }`].join('\n'),
    'sgsync.yaml',
  );
}

/** Agent dependencies over the fakes, with a clock that moves only when slept on. */
export function fakeDeps(ec2: FakeEc2, instance: FakeInstance, config = agentConfig(), extra: Partial<AgentDeps> = {}): AgentDeps {
  let now = Date.parse('2030-01-01T00:00:00Z');
  return {
    config,
    ec2,
    instance,
    now: () => now,
    sleep: (ms) => {
      now += ms;
      return Promise.resolve();
    },
    ...extra,
  };
}
