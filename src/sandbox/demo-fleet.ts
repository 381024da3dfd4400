import { API_VERSION, handleEc2 } from './ec2-endpoint.js';
import type { Sandbox } from './sandbox.js';

/**
 * The demo fleet: a primary region with a pool of security groups for sgsync
 * to manage and a web group with foreign rules, and workers and API servers
 * in four other regions, some stopped. It is built through the EC2 actions
 * themselves, exactly as a client would build it, so it can only contain
 * what the API can produce. The same seed gives the same ids.
 */
export const DEMO_PRIMARY_REGION = 'us-east-1';

interface DemoGroup {
  name: string;
  description: string;
  tags: Record<string, string>;
  /** Rules sgsync does not own: they must survive every pass. */
  foreignRules?: { port: number; cidr: string; description: string }[];
}

const PRIMARY_GROUPS: DemoGroup[] = [
  { name: 'sgsync-primary-a', description: 'Allow-list managed by sgsync (pool, first)', tags: { Name: 'sgsync-primary-a', 'sgsync:pool': 'primary' } },
  { name: 'sgsync-primary-b', description: 'Allow-list managed by sgsync (pool, overflow)', tags: { Name: 'sgsync-primary-b', 'sgsync:pool': 'primary' } },
  {
    name: 'web',
    description: 'Public web tier',
    tags: { Name: 'web' },
    foreignRules: [
      { port: 443, cidr: '0.0.0.0/0', description: 'public HTTPS' },
      { port: 22, cidr: '198.51.100.0/24', description: 'office VPN' },
    ],
  },
];

/** Per region: how many of each role run, and how many of them are stopped. */
const MEMBERS: { region: string; env: string; role: 'worker' | 'api'; count: number; stopped: number }[] = [
  { region: 'eu-west-1', env: 'prod', role: 'worker', count: 4, stopped: 1 },
  { region: 'eu-west-1', env: 'prod', role: 'api', count: 2, stopped: 0 },
  { region: 'ap-southeast-2', env: 'prod', role: 'worker', count: 3, stopped: 1 },
  { region: 'us-west-2', env: 'staging', role: 'worker', count: 2, stopped: 0 },
  { region: 'us-west-2', env: 'staging', role: 'api', count: 1, stopped: 1 },
  { region: 'sa-east-1', env: 'prod', role: 'worker', count: 2, stopped: 0 },
];

/** Every region the demo fleet uses. */
export const DEMO_REGIONS = [DEMO_PRIMARY_REGION, ...new Set(MEMBERS.map((m) => m.region))];

type Form = Record<string, string | number>;

function tagSpecification(resourceType: string, tags: Record<string, string>): Form {
  const form: Form = { 'TagSpecification.1.ResourceType': resourceType };
  Object.entries(tags).forEach(([key, value], i) => {
    form[`TagSpecification.1.Tag.${i + 1}.Key`] = key;
    form[`TagSpecification.1.Tag.${i + 1}.Value`] = value;
  });
  return form;
}

/** Calls one EC2 action in-process, through the same pipeline as HTTP clients. */
async function call(sandbox: Sandbox, region: string, action: string, form: Form): Promise<void> {
  const body = new URLSearchParams({ Action: action, Version: API_VERSION });
  for (const [k, v] of Object.entries(form)) body.set(k, String(v));
  const authorization = `AWS4-HMAC-SHA256 Credential=AKIDSANDBOX/20260101/${region}/ec2/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`;
  const answer = await handleEc2(sandbox, body.toString(), authorization);
  if ('drop' in answer || answer.status !== 200) {
    const text = 'drop' in answer ? 'connection dropped' : answer.body;
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? text;
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? '';
    throw new Error(`building the demo fleet: ${action} in ${region} failed: ${code} ${message}`.trim());
  }
}

export interface DemoFleet {
  primaryRegion: string;
  groups: { id: string; name: string; region: string }[];
  instances: { id: string; region: string; role: string; state: string }[];
}

/**
 * Adds the demo fleet to the sandbox's current world. Throttling and faults
 * are suspended while it is built and the call counters cleared afterwards,
 * so the demo starts from a quiet, full-bucket state.
 */
export async function buildDemoFleet(sandbox: Sandbox): Promise<DemoFleet> {
  const missing = DEMO_REGIONS.filter((r) => !sandbox.world.region(r));
  if (missing.length > 0) throw new Error(`the demo fleet needs these regions enabled: ${missing.join(', ')}`);

  const throttleMode = sandbox.throttle.mode;
  const faults = sandbox.faults.current;
  sandbox.throttle.mode = { kind: 'off' };
  sandbox.faults.set({ rules: [] });
  try {
    const fleet: DemoFleet = { primaryRegion: DEMO_PRIMARY_REGION, groups: [], instances: [] };
    const primary = sandbox.world.region(DEMO_PRIMARY_REGION)!;
    for (const g of PRIMARY_GROUPS) {
      await call(sandbox, DEMO_PRIMARY_REGION, 'CreateSecurityGroup', {
        GroupName: g.name,
        GroupDescription: g.description,
        ...tagSpecification('security-group', g.tags),
      });
      const group = [...primary.groups.values()].find((x) => x.name === g.name)!;
      fleet.groups.push({ id: group.id, name: g.name, region: DEMO_PRIMARY_REGION });
      for (const [i, rule] of (g.foreignRules ?? []).entries()) {
        await call(sandbox, DEMO_PRIMARY_REGION, 'AuthorizeSecurityGroupIngress', {
          GroupId: group.id,
          'IpPermissions.1.IpProtocol': 'tcp',
          'IpPermissions.1.FromPort': rule.port,
          'IpPermissions.1.ToPort': rule.port,
          'IpPermissions.1.IpRanges.1.CidrIp': rule.cidr,
          'IpPermissions.1.IpRanges.1.Description': rule.description,
          ...tagSpecification('security-group-rule', { Name: `${g.name}-${i + 1}` }),
        });
      }
    }

    for (const m of MEMBERS) {
      const region = sandbox.world.region(m.region)!;
      const short = m.region.replace(/^(\w\w)-(\w)\w*-(\d+)$/, '$1$2$3');
      for (let n = 1; n <= m.count; n++) {
        const before = new Set(region.instances.keys());
        await call(sandbox, m.region, 'RunInstances', {
          ImageId: 'ami-0123456789abcdef0',
          InstanceType: m.role === 'api' ? 't3.medium' : 't3.small',
          MinCount: 1,
          MaxCount: 1,
          ...tagSpecification('instance', { Name: `${m.role}-${short}-${n}`, role: m.role, env: m.env }),
        });
        const id = [...region.instances.keys()].find((k) => !before.has(k))!;
        if (n <= m.stopped) await call(sandbox, m.region, 'StopInstances', { 'InstanceId.1': id });
        fleet.instances.push({ id, region: m.region, role: m.role, state: region.instances.get(id)!.state });
      }
    }
    return fleet;
  } finally {
    sandbox.throttle.mode = throttleMode;
    sandbox.faults.set(faults);
    sandbox.counters.reset();
  }
}
