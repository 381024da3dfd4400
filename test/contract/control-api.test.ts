import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, DescribeInstancesCommand, RunInstancesCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { MetadataService } from '@aws-sdk/ec2-metadata-service';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateChangeEvent } from '../../src/sandbox/events.js';
import type { SandboxState } from '../../src/sandbox/state-file.js';
import { errorCode, startTestSandbox, type TestSandbox } from './helpers.js';

let sb: TestSandbox;

interface Answer<T> {
  status: number;
  json: T;
}
type Fields = Record<string, unknown>;
interface Clock {
  now: string;
  epochMs: number;
  offsetSeconds: number;
}
interface Events {
  last: number;
  events: StateChangeEvent[];
}

/** One control-API request; `T` is the shape the test expects back. */
async function control<T = Fields>(path: string, method = 'GET', body?: unknown): Promise<Answer<T>> {
  const res = await fetch(`${sb.url}/_sandbox${path}`, {
    method,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as T };
}

async function runInstance(region = 'eu-west-1'): Promise<string> {
  const out = await sb.ec2(region).send(new RunInstancesCommand({ ImageId: 'ami-0123456789abcdef0', InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }));
  return out.Instances![0]!.InstanceId!;
}

beforeAll(async () => {
  sb = await startTestSandbox({ seed: 11 });
});
afterAll(async () => {
  await sb.close();
});

describe('the control API', () => {
  it('reports health and the enabled regions', async () => {
    const { status, json } = await control('/health');
    expect(status).toBe(200);
    expect(json.status).toBe('ok');
    expect(json.regions).toContain('eu-west-1');
    expect(json.regions).not.toContain('af-south-1');
  });

  it('resets to the demo fleet, the same one for the same seed', async () => {
    const reset = await control('/reset', 'POST', { demo: true });
    expect(reset.json).toMatchObject({ reset: true, demo: true, groups: 3 });
    const first = (await control<SandboxState>('/snapshot')).json;
    await control('/reset', 'POST', { demo: true });
    const second = (await control<SandboxState>('/snapshot')).json;
    const ids = (s: SandboxState) => s.regions.flatMap((r) => [...r.groups, ...r.instances].map((x) => x.id));
    expect(ids(second)).toEqual(ids(first));

    const out = await sb.ec2('eu-west-1').send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:role', Values: ['api'] }] }));
    const tags = out.Reservations!.flatMap((r) => r.Instances!).map((i) => Object.fromEntries(i.Tags!.map((t): [string, string] => [t.Key!, t.Value!])));
    expect(tags).toHaveLength(2);
    expect(tags[0]).toMatchObject({ role: 'api', env: 'prod' });
    const primary = second.regions.find((r) => r.name === 'us-east-1')!;
    expect(primary.groups.map((g) => g.name)).toEqual(['default', 'sgsync-primary-a', 'sgsync-primary-b', 'web']);
  });

  it('resets to an empty world', async () => {
    await control('/reset', 'POST', { demo: true });
    expect((await control('/reset', 'POST')).json).toMatchObject({ reset: true, demo: false, instances: 0 });
    const snapshot = (await control<SandboxState>('/snapshot')).json;
    expect(snapshot).toMatchObject({ format: 'sgsync-sandbox-state', version: 1, accountId: '123456789012', seed: 11 });
    expect(snapshot.regions.flatMap((r) => r.instances)).toEqual([]);
  });

  it('posts and clears a spot interruption notice that the instance sees in IMDS', async () => {
    const id = await runInstance();
    const imds = new MetadataService({ endpoint: sb.imdsUrl(id) });
    const notice = await control(`/instances/${id}/spot-notice`, 'POST', { action: 'terminate', time: '2030-01-01T00:02:00Z' });
    expect(notice.json).toEqual({ instanceId: id, spotAction: { action: 'terminate', time: '2030-01-01T00:02:00Z' } });
    expect(JSON.parse(await imds.request('latest/meta-data/spot/instance-action', {})) as unknown).toEqual({ action: 'terminate', time: '2030-01-01T00:02:00Z' });
    expect((await control(`/instances/${id}/spot-notice`, 'DELETE')).json.spotAction).toBeNull();
    await expect(imds.request('latest/meta-data/spot/instance-action', {})).rejects.toThrow();
  });

  it('gives a spot notice two minutes ahead of the sandbox clock by default', async () => {
    const id = await runInstance();
    const clock = (await control<Clock>('/clock')).json;
    const notice = (await control<{ spotAction: { time: string } }>(`/instances/${id}/spot-notice`, 'POST', { action: 'stop' })).json;
    const ahead = Date.parse(notice.spotAction.time) - clock.epochMs;
    expect(ahead).toBeGreaterThan(110_000);
    expect(ahead).toBeLessThanOrEqual(120_000);
  });

  it('sets the Auto Scaling lifecycle state an instance reports', async () => {
    const id = await runInstance();
    expect((await control(`/instances/${id}/lifecycle-state`, 'POST', { state: 'Terminated' })).json).toEqual({ instanceId: id, lifecycleState: 'Terminated' });
    const imds = new MetadataService({ endpoint: sb.imdsUrl(id) });
    expect(await imds.request('latest/meta-data/autoscaling/target-lifecycle-state', {})).toBe('Terminated');
    expect((await control(`/instances/${id}/lifecycle-state`, 'POST', { state: 'Sleeping' })).status).toBe(400);
  });

  it.each([
    ['POST', '/instances/i-0123456789abcdef0/spot-notice', { action: 'terminate' }, 404, 'InstanceNotFound'],
    ['POST', '/instances/i-0123456789abcdef0/lifecycle-state', { state: 'InService' }, 404, 'InstanceNotFound'],
    ['POST', '/quotas', { region: 'mars-north-1', quota: 5 }, 404, 'RegionNotFound'],
    ['POST', '/quotas', { region: 'us-east-1', groupId: 'sg-0123456789abcdef0', quota: 5 }, 404, 'GroupNotFound'],
    ['POST', '/quotas', { region: 'us-east-1', quota: 0 }, 400, 'InvalidRequest'],
    ['POST', '/clock/advance', { seconds: -5 }, 400, 'InvalidRequest'],
    ['POST', '/clock/advance', '{"seconds": 5', 400, 'InvalidRequest'],
    ['PUT', '/throttle', { mode: 'fast' }, 400, 'InvalidRequest'],
    ['PUT', '/faults', { rules: [{ dropRate: 3 }] }, 400, 'InvalidRequest'],
    ['POST', '/reset', { demo: 'yes' }, 400, 'InvalidRequest'],
    ['GET', '/nowhere', undefined, 404, 'NotFound'],
    ['DELETE', '/faults', undefined, 405, 'MethodNotAllowed'],
    ['GET', '/events?after=-1', undefined, 400, 'InvalidRequest'],
  ])('answers %s %s with %i %s and a message', async (method, path, body, status, error) => {
    const answer = await control<{ error: string; message: string }>(path, method, body);
    expect(answer.status).toBe(status);
    expect(answer.json.error).toBe(error);
    expect(answer.json.message).toEqual(expect.any(String));
    expect((await control('/health')).status).toBe(200);
  });

  it('sets a group quota that the next authorize runs into', async () => {
    const { GroupId } = await sb.ec2().send(new CreateSecurityGroupCommand({ GroupName: 'quota-test', Description: 'quota test' }));
    await control('/quotas', 'POST', { region: 'us-east-1', groupId: GroupId, quota: 1 });
    const authorize = (cidr: string) =>
      sb.ec2().send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: cidr }] }] }));
    expect(await errorCode(authorize('198.51.100.1/32'))).toBe('none');
    expect(await errorCode(authorize('198.51.100.2/32'))).toBe('RulesPerSecurityGroupLimitExceeded');
  });

  it('sets a region quota that every group without its own runs into', async () => {
    await control('/quotas', 'POST', { region: 'eu-north-1', quota: 1 });
    const { GroupId } = await sb.ec2('eu-north-1').send(new CreateSecurityGroupCommand({ GroupName: 'region-quota', Description: 'quota test' }));
    const authorize = (cidr: string) =>
      sb.ec2('eu-north-1').send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: cidr }] }] }));
    expect(await errorCode(authorize('198.51.100.1/32'))).toBe('none');
    expect(await errorCode(authorize('198.51.100.2/32'))).toBe('RulesPerSecurityGroupLimitExceeded');
  });

  it('reads and replaces the fault rules', async () => {
    const rules = [{ action: 'CreateTags', region: 'eu-*', error: { code: 'UnauthorizedOperation' } }];
    const put = await control('/faults', 'PUT', { seed: 5, rules });
    expect(put.json).toMatchObject({ seed: 5, rules: [{ action: 'CreateTags', region: 'eu-*', dropRate: 0, error: { code: 'UnauthorizedOperation', rate: 1 } }] });
    expect((await control('/faults')).json).toEqual(put.json);
    await control('/faults', 'PUT', { rules: [] });
  });

  it('reads and changes the throttle mode', async () => {
    expect((await control('/throttle')).json).toMatchObject({ mode: 'off', text: 'off' });
    expect((await control('/throttle', 'PUT', { mode: 'aws', scale: 20 })).json).toMatchObject({ mode: 'aws', scale: 20, text: 'aws:20' });
    await control('/throttle', 'PUT', { mode: 'off' });
  });

  it('moves the sandbox clock forward', async () => {
    const before = (await control<Clock>('/clock')).json;
    const after = (await control<Clock>('/clock/advance', 'POST', { seconds: 3600 })).json;
    expect(after.epochMs - before.epochMs).toBeGreaterThanOrEqual(3_600_000);
    expect(after.offsetSeconds - before.offsetSeconds).toBeCloseTo(3600, 0);
    expect(Date.parse(after.now)).toBe(after.epochMs);
  });

  it('counts calls per region and action, and resets the counts', async () => {
    await control('/counters/reset', 'POST');
    await runInstance('ap-south-1');
    await errorCode(sb.ec2('ap-south-1').send(new StopInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })));
    expect((await control('/counters')).json).toEqual({
      'ap-south-1': {
        RunInstances: { calls: 1, ok: 1, failed: 0, throttled: 0, faulted: 0 },
        StopInstances: { calls: 1, ok: 0, failed: 1, throttled: 0, faulted: 0 },
      },
    });
    expect((await control('/counters/reset', 'POST')).json).toEqual({});
  });

  it('streams instance state changes in EventBridge shape', async () => {
    const { last } = (await control<Events>('/events')).json;
    const id = await runInstance('ca-central-1');
    const { json } = await control<Events>(`/events?after=${last}`);
    expect(json.last).toBeGreaterThan(last);
    expect(json.events[0]).toMatchObject({
      source: 'aws.ec2',
      'detail-type': 'EC2 Instance State-change Notification',
      region: 'ca-central-1',
      account: '123456789012',
      detail: { 'instance-id': id, state: 'pending' },
    });
  });

  it('holds a long-polling reader until the next event arrives', async () => {
    const id = await runInstance('ca-central-1');
    const { last } = (await control<Events>('/events')).json;
    const waiting = control<Events>(`/events?after=${last}&wait=30`);
    await sb.ec2('ca-central-1').send(new StopInstancesCommand({ InstanceIds: [id] }));
    const { json } = await waiting;
    expect(json.events.map((e) => [e.detail['instance-id'], e.detail.state])).toContainEqual([id, 'stopping']);
  });

  it('serves the certificate that verifies identity documents', async () => {
    const res = await fetch(`${sb.url}/_sandbox/certificate`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n?$/);
  });
});

/** A request with the headers a browser would send, Host among them (fetch does not let one set it). */
function raw(method: string, path: string, headers: Record<string, string>, body = ''): Promise<{ status: number | undefined; type: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${sb.url}${path}`, { method, headers: { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the control API and web pages', () => {
  const own = () => new URL(sb.url).host;
  /** How far the sandbox clock runs ahead of real time: what /clock/advance moves. */
  const offset = async () => (await control<Clock>('/clock')).json.offsetSeconds;
  /** The world, without the time it was read at. */
  const world = async () => ({ ...(await control<SandboxState>('/snapshot')).json, savedAt: undefined });

  it.each<[string, Record<string, string>, string]>([
    ['marked cross-site, as a form or a no-cors fetch is', { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }, 'Sec-Fetch-Site: cross-site'],
    ['from another origin, by a browser that sends no Sec-Fetch-Site', { origin: 'http://evil.example' }, 'Origin "http://evil.example"'],
    ['from a page on another port of the same machine', { 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:3000' }, 'Sec-Fetch-Site: same-site'],
  ])('refuses a write %s with 403 in its JSON error shape, and changes nothing', async (_what, headers, why) => {
    const before = await offset();
    const res = await raw('POST', '/_sandbox/clock/advance', { 'content-type': 'text/plain;charset=UTF-8', ...headers }, '{"seconds":3600}');
    expect([res.status, res.type]).toEqual([403, 'application/json; charset=utf-8']);
    const json = JSON.parse(res.text) as Fields;
    expect(json).toEqual({ error: 'Forbidden', message: expect.stringContaining(why) as string });
    expect(await offset()).toBe(before);
  });

  it('refuses a page that rebound its DNS name to the sandbox on loopback, even as its own origin', async () => {
    const evil = `rebind.evil.example:${sb.port}`;
    const before = await world();
    for (const [method, path, body] of [['POST', '/_sandbox/reset', '{}'], ['GET', '/_sandbox/snapshot', ''], ['PUT', '/_sandbox/faults', '{"rules":[]}']] as const) {
      const res = await raw(method, path, { host: evil, origin: `http://${evil}`, 'sec-fetch-site': 'same-origin' }, body);
      expect([path, res.status]).toEqual([path, 403]);
      expect((JSON.parse(res.text) as Fields).message).toBe(
        `The sandbox listens on loopback and takes control requests only for a loopback host name or address (localhost, 127.0.0.1, [::1]), not Host "${evil}", so that a web page cannot reach it through DNS rebinding.`,
      );
    }
    expect(await world()).toEqual(before);
  });

  it('takes the documented curl requests, whose body comes with a form content type', async () => {
    const before = await offset();
    const res = await raw('POST', '/_sandbox/clock/advance', { host: `localhost:${sb.port}`, 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'curl/8.5.0' }, '{"seconds": 60}');
    expect(res.status).toBe(200);
    expect(await offset()).toBe(before + 60);
    expect((await raw('GET', '/_sandbox/health', { host: own(), origin: `http://${own()}`, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
  });

  it('leaves IMDS alone: its clients name the address they were given, 169.254.169.254 or another', async () => {
    const id = await runInstance('eu-west-1');
    for (const host of ['169.254.169.254', '[fd00:ec2::254]', 'metadata.internal:8080']) {
      const token = await raw('PUT', `/imds/${id}/latest/api/token`, { host, 'x-aws-ec2-metadata-token-ttl-seconds': '60' });
      expect([host, token.status]).toEqual([host, 200]);
      const read = await raw('GET', `/imds/${id}/latest/meta-data/instance-id`, { host, 'x-aws-ec2-metadata-token': token.text });
      expect([host, read.text]).toEqual([host, id]);
    }
  });
});
