import { request } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handleEc2 } from './ec2-endpoint.js';
import { startSandbox, type RunningSandbox } from './server.js';

const AUTH = 'AWS4-HMAC-SHA256 Credential=AKID/20261126/eu-west-1/ec2/aws4_request, SignedHeaders=host, Signature=0';

let sb: RunningSandbox;
let instanceId: string;

/** One raw IMDS request: the status and body, or the network error's code when the connection was cut. */
function imds(method: 'GET' | 'PUT', path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request(`${sb.imdsUrl(instanceId)}${path}`, { method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end();
  });
}

async function token(): Promise<string> {
  const answer = await imds('PUT', 'latest/api/token', { 'x-aws-ec2-metadata-token-ttl-seconds': '60' });
  if (!('status' in answer) || answer.status !== 200) throw new Error(`no token: ${JSON.stringify(answer)}`);
  return answer.body;
}

const readId = async (t: string) => imds('GET', 'latest/meta-data/instance-id', { 'x-aws-ec2-metadata-token': t });

async function control(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${sb.url}/_sandbox${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

beforeAll(async () => {
  sb = await startSandbox({ port: 0, seed: 5, log: () => undefined });
  const run = await handleEc2(sb.sandbox, 'Action=RunInstances&Version=2016-11-15&ImageId=ami-0123456789abcdef0&InstanceType=t3.micro&MinCount=1&MaxCount=1', AUTH);
  instanceId = /<instanceId>(i-[0-9a-f]+)<\/instanceId>/.exec('body' in run ? run.body : '')![1]!;
});

afterAll(async () => {
  await sb.close();
});

beforeEach(async () => {
  await control('PUT', '/imds-faults', {});
  await control('POST', '/counters/reset');
});

describe('IMDS faults', () => {
  it('answer normally by default, and PUT /imds-faults shows the settings with defaults filled in', async () => {
    expect(await readId(await token())).toEqual({ status: 200, body: instanceId });
    expect(await control('PUT', '/imds-faults', { latencyMs: 5 })).toEqual({ status: 200, json: { down: false, latencyMs: 5, jitterMs: 0, rejectTokens: false } });
    expect((await control('GET', '/imds-faults')).json).toEqual({ down: false, latencyMs: 5, jitterMs: 0, rejectTokens: false });
  });

  it('cut every connection while IMDS is down, token requests included, and count them', async () => {
    await control('PUT', '/imds-faults', { down: true });
    expect(await imds('PUT', 'latest/api/token', { 'x-aws-ec2-metadata-token-ttl-seconds': '60' })).toEqual({ error: 'ECONNRESET' });
    expect(await readId('whatever')).toEqual({ error: 'ECONNRESET' });
    expect((await control('GET', '/imds-counters')).json).toEqual({
      [instanceId]: { read: { calls: 1, ok: 0, failed: 0, throttled: 0, faulted: 1 }, token: { calls: 1, ok: 0, failed: 0, throttled: 0, faulted: 1 } },
    });
    await control('PUT', '/imds-faults', { down: false });
    expect(await readId(await token())).toEqual({ status: 200, body: instanceId });
  });

  it('with rejectTokens, answer 401 to a token issued before, and accept a new one', async () => {
    const stale = await token();
    expect(await readId(stale)).toEqual({ status: 200, body: instanceId });
    await control('PUT', '/imds-faults', { rejectTokens: true });
    expect(await readId(stale)).toMatchObject({ status: 401 });
    expect(await readId(await token())).toEqual({ status: 200, body: instanceId });
    const counts = (await control('GET', '/imds-counters')).json as Record<string, Record<string, { failed: number; ok: number }>>;
    expect(counts[instanceId]).toMatchObject({ read: { ok: 2, failed: 1 }, token: { ok: 2 } });
  });

  it('refuse unknown fields and values out of range', async () => {
    expect(await control('PUT', '/imds-faults', { down: 'yes' })).toMatchObject({ status: 400 });
    expect(await control('PUT', '/imds-faults', { latencyMs: -1 })).toMatchObject({ status: 400 });
    expect(await control('PUT', '/imds-faults', { slow: true })).toMatchObject({ status: 400, json: { message: expect.stringContaining('slow') } });
  });

  it('can be set with the EC2 rules through PUT /faults, as in a faults file', async () => {
    await control('PUT', '/faults', { rules: [], imds: { down: true } });
    expect(await readId('x')).toEqual({ error: 'ECONNRESET' });
    await control('PUT', '/faults', { rules: [] });
    expect(await readId(await token())).toEqual({ status: 200, body: instanceId });
  });
});
