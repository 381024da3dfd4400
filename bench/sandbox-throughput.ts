/**
 * Sandbox throughput: how many EC2 calls per second the sandbox answers with
 * throttling off, for a mix of AuthorizeSecurityGroupIngress,
 * RevokeSecurityGroupIngress, DescribeSecurityGroupRules and
 * DescribeInstances. The sandbox runs as its own process (`sgsync sandbox`,
 * through tsx) so that client and server each get a core of the machine.
 *
 * Two clients are measured in turn:
 *  - sdk: the real @aws-sdk/client-ec2 (signing, XML parsing, retries off);
 *  - raw: a keep-alive node:http client posting ready-made form bodies with a
 *    SigV4-shaped Authorization header, so the server is the bottleneck.
 *
 * "server CPU" is the share of one core the sandbox process used: near 100 %
 * means the server was the bottleneck, well below it means the client was.
 *
 *   npx tsx bench/sandbox-throughput.ts [seconds per client=10] [concurrency=32]
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { spawnSandbox } from './support/spawn-sandbox.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const SECONDS = Number(process.argv[2] ?? 10);
const CONCURRENCY = Number(process.argv[3] ?? 32);
const PRIMARY = 'us-east-1';
const MEMBERS = 'eu-west-1';

interface Result {
  client: string;
  calls: number;
  errors: number;
  seconds: number;
  byAction: Record<string, number>;
  firstError?: string;
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMb(pid: number | 'self'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** A distinct /32 for every authorize, so none is a duplicate. */
const cidrOf = (n: number) => `100.${64 + ((n >> 16) & 63)}.${(n >> 8) & 255}.${n & 255}/32`;

/**
 * Runs `CONCURRENCY` loops for `SECONDS`; each loop authorizes a rule, makes
 * one describe call (rules of the group and a page of 50 instances, in
 * turn) and revokes the rule: two mutating calls to one reading call, as a
 * reconcile pass that changes things makes them.
 */
async function drive(client: string, step: (n: number, count: (action: string, ok: boolean, error?: string) => void) => Promise<void>): Promise<Result> {
  const result: Result = { client, calls: 0, errors: 0, seconds: 0, byAction: {} };
  const count = (action: string, ok: boolean, error?: string) => {
    result.calls++;
    result.byAction[action] = (result.byAction[action] ?? 0) + 1;
    if (!ok) {
      result.errors++;
      result.firstError ??= `${action}: ${error}`;
    }
  };
  let next = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) await step(next++, count);
    }),
  );
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

async function sdkClient(url: string, groupId: string): Promise<Result> {
  const options = { endpoint: url, credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' }, maxAttempts: 1 };
  const primary = new EC2Client({ region: PRIMARY, ...options });
  const members = new EC2Client({ region: MEMBERS, ...options });
  const call = async (action: string, count: (a: string, ok: boolean, e?: string) => void, run: () => Promise<unknown>) => {
    try {
      const out = await run();
      count(action, true);
      return out;
    } catch (e) {
      count(action, false, e instanceof Error ? e.name : String(e));
      return undefined;
    }
  };
  const result = await drive('sdk', async (n, count) => {
    const added = (await call('AuthorizeSecurityGroupIngress', count, () =>
      primary.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: groupId,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: cidrOf(n), Description: 'bench' }] }],
          TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [{ Key: 'sgsync:managed-by', Value: 'bench' }] }],
        }),
      ),
    )) as { SecurityGroupRules?: { SecurityGroupRuleId?: string }[] } | undefined;
    if (n % 2 === 0) {
      await call('DescribeSecurityGroupRules', count, () =>
        primary.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }], MaxResults: 100 })),
      );
    } else {
      await call('DescribeInstances', count, () => members.send(new DescribeInstancesCommand({ MaxResults: 50 })));
    }
    const ruleId = added?.SecurityGroupRules?.[0]?.SecurityGroupRuleId;
    if (ruleId) await call('RevokeSecurityGroupIngress', count, () => primary.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: [ruleId] })));
  });
  primary.destroy();
  members.destroy();
  return result;
}

async function rawClient(url: string, groupId: string): Promise<Result> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const { hostname, port } = new URL(url);
  const auth = (region: string) =>
    `AWS4-HMAC-SHA256 Credential=AKIDSANDBOX/20260101/${region}/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=${'ab'.repeat(32)}`;
  const post = (region: string, body: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        { agent, hostname, port, method: 'POST', path: '/', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', authorization: auth(region), 'x-amz-date': '20260101T000000Z', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const call = async (action: string, region: string, form: string, count: (a: string, ok: boolean, e?: string) => void) => {
    try {
      const { status, text } = await post(region, `Action=${action}&Version=2016-11-15&${form}`);
      count(action, status === 200, /<Code>([^<]+)/.exec(text)?.[1] ?? String(status));
      return text;
    } catch (e) {
      count(action, false, e instanceof Error ? e.message : String(e));
      return '';
    }
  };
  const result = await drive('raw', async (n, count) => {
    const added = await call(
      'AuthorizeSecurityGroupIngress', PRIMARY,
      `GroupId=${groupId}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=443&IpPermissions.1.ToPort=443&IpPermissions.1.IpRanges.1.CidrIp=${encodeURIComponent(cidrOf(n))}` +
        '&IpPermissions.1.IpRanges.1.Description=bench&TagSpecification.1.ResourceType=security-group-rule&TagSpecification.1.Tag.1.Key=sgsync%3Amanaged-by&TagSpecification.1.Tag.1.Value=bench',
      count,
    );
    if (n % 2 === 0) await call('DescribeSecurityGroupRules', PRIMARY, `Filter.1.Name=group-id&Filter.1.Value.1=${groupId}&MaxResults=100`, count);
    else await call('DescribeInstances', MEMBERS, 'MaxResults=50', count);
    const ruleId = /<securityGroupRuleId>([^<]+)/.exec(added)?.[1];
    if (ruleId) await call('RevokeSecurityGroupIngress', PRIMARY, `GroupId=${groupId}&SecurityGroupRuleId.1=${ruleId}`, count);
  });
  agent.destroy();
  return result;
}

async function main(): Promise<void> {
  const server = await spawnSandbox({ args: ['--throttle', 'off'] });
  try {
    const setup = new EC2Client({ region: PRIMARY, endpoint: server.url, credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' } });
    const { GroupId } = await setup.send(new CreateSecurityGroupCommand({ GroupName: 'bench-pool', Description: 'throughput benchmark' }));
    // Every loop holds at most one rule at a time; a roomy quota keeps the quota out of the measurement.
    await fetch(`${server.url}/_sandbox/quotas`, { method: 'POST', body: JSON.stringify({ region: PRIMARY, groupId: GroupId, quota: 1000 }) });
    const members = new EC2Client({ region: MEMBERS, endpoint: server.url, credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' } });
    await members.send(new RunInstancesCommand({ ImageId: 'ami-0123456789abcdef0', InstanceType: 't3.small', MinCount: 200, MaxCount: 200 }));
    setup.destroy();
    members.destroy();

    console.log(`sandbox ${server.url}, throttling off, ${CONCURRENCY} concurrent loops, ${SECONDS} s per client, ${process.platform} ${process.arch}, node ${process.version}`);
    console.log('client   calls   calls/s   errors   server CPU   server RSS   client RSS   mix');
    for (const run of [sdkClient, rawClient]) {
      const cpuBefore = cpuSeconds(server.pid);
      const r = await run(server.url, GroupId!);
      const cpu = (cpuSeconds(server.pid) - cpuBefore) / r.seconds;
      const mix = Object.entries(r.byAction).map(([a, n]) => `${a.replace(/SecurityGroup|Ingress/g, '')} ${n}`).join(', ');
      console.log(
        `${r.client.padEnd(6)} ${String(r.calls).padStart(7)} ${(r.calls / r.seconds).toFixed(0).padStart(9)} ${String(r.errors).padStart(8)} ` +
          `${(cpu * 100).toFixed(0).padStart(9)} % ` +
          `${rssMb(server.pid).toFixed(0).padStart(9)} MB ${rssMb('self').toFixed(0).padStart(9)} MB   ${mix}`,
      );
      if (r.firstError) console.log(`         first error: ${r.firstError}`);
    }
  } finally {
    await server.stop();
  }
}

await main();
