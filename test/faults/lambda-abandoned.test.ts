import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createHandler, type LambdaSummary } from '../../src/controller/lambda.js';
import { faultsConfigSchema } from '../../src/sandbox/faults.js';
import { FaultFleet, PRIMARY } from './fault-fleet.js';

const SCHEDULED = { version: '0', id: 'schedule', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012', time: '2026-11-26T06:00:00Z', region: 'us-east-1', resources: [], detail: {} };
const AUTHORIZE = 'AuthorizeSecurityGroupIngress';

/**
 * A TCP proxy in front of the sandbox that can be frozen, as Lambda ends an
 * invocation at its timeout: from then on nothing the handler sends goes out
 * and nothing comes back, while a request already sent runs on in AWS.
 */
async function freezableProxy(target: string): Promise<{ url: string; freeze(): void; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let frozen = false;
  const server: Server = createServer((client) => {
    sockets.add(client);
    const upstream = createConnection({ host: hostname, port: Number(port) });
    sockets.add(upstream);
    client.on('data', (d) => void (frozen || upstream.write(d)));
    upstream.on('data', (d) => void (frozen || client.write(d)));
    for (const s of [client, upstream]) s.on('error', () => undefined).on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    freeze: () => void (frozen = true),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

let fleet: FaultFleet | undefined;
let proxy: Awaited<ReturnType<typeof freezableProxy>> | undefined;
afterEach(async () => {
  await proxy?.close();
  await fleet?.close();
  fleet = undefined;
  proxy = undefined;
});

interface AuditLine {
  passId: string;
  actor: string;
  action: string;
}

describe('a Lambda invocation abandoned mid-apply (Lambda ended it at its timeout), then invoked again', () => {
  it.each([
    ['the reads in step', 0],
    ['new rules unlisted for 60 s', 60],
  ])('with %s: the next invocation converges, makes nothing twice, and its audit lines are its changes', async (_name, lagSeconds) => {
    const f = await FaultFleet.start({ seed: 151 + lagSeconds, groups: 3, quota: 8 });
    fleet = f;
    const eu = await f.launch('eu-west-1', 6);
    const ap = await f.launch('ap-southeast-2', 4);
    expect((await f.reconcile('initial')).run.code).toBe(0);
    await f.fleet.ec2('eu-west-1').send(new TerminateInstancesCommand({ InstanceIds: [eu[0]!, eu[3]!] }));
    await f.fleet.ec2('ap-southeast-2').send(new TerminateInstancesCommand({ InstanceIds: [ap[1]!] }));
    await f.launch('eu-west-1', 4);
    await f.launch('ap-southeast-2', 3);
    await f.advance(61);
    // One group at a time, each authorize and revoke held 3 s: when the invocation is abandoned, one call is in flight.
    f.sandbox.faults.set(faultsConfigSchema.parse({ rules: [{ action: '*Ingress', region: PRIMARY, latencyMs: 3000 }], readLag: { rulesSeconds: lagSeconds } }));
    const yaml = readFileSync(f.config, 'utf8').replace('controller:\n', 'controller:\n  concurrency: 1\n');
    process.env.AWS_ACCESS_KEY_ID = 'AKIDSANDBOX';
    process.env.AWS_SECRET_ACCESS_KEY = 'sandbox';
    proxy = await freezableProxy(f.url);

    const before = f.view();
    const watch = f.watch();
    const abandonedAudit = f.auditFile('abandoned.jsonl');
    const first = createHandler({ env: { SGSYNC_CONFIG_YAML: yaml, SGSYNC_ENDPOINT: proxy.url }, log: pino({ level: 'silent' }), auditFile: abandonedAudit });
    // Lambda's time runs out with no warning the handler could see (a call hung past its margin, say).
    const dropped = first(SCHEDULED, { awsRequestId: 'req-abandoned', getRemainingTimeInMillis: () => 600_000 });
    dropped.catch(() => undefined);
    let settledFirst = false;
    void dropped.finally(() => (settledFirst = true));
    await f.arrival(AUTHORIZE);
    proxy.freeze();
    await f.quiet();
    f.sandbox.faults.set(faultsConfigSchema.parse({ rules: [], readLag: { rulesSeconds: lagSeconds } }));
    expect(settledFirst, 'the abandoned invocation never finished').toBe(false);
    const abandonedChanges = f.changes([abandonedAudit]);
    expect(abandonedChanges, 'the change in flight landed with nobody left to log it').toEqual([]);
    expect(f.view().rules.length, 'its authorize landed').toBeGreaterThan(before.rules.length);
    expect(f.check({ before, changes: abandonedChanges, changesComplete: false, samples: watch.stop(), admission: 'admitted-before' })).toEqual([]);

    // Lambda resets the environment after a timeout: the next invocation is a cold start.
    const settled = f.view();
    const audit = f.auditFile('second.jsonl');
    const second = createHandler({ env: { SGSYNC_CONFIG_YAML: yaml }, log: pino({ level: 'silent' }), auditFile: audit });
    const watchSecond = f.watch();
    const summary: LambdaSummary = await second(SCHEDULED, { awsRequestId: 'req-2', getRemainingTimeInMillis: () => 600_000 });
    const samples = watchSecond.stop();

    if (summary.event === 'ignored') throw new Error('not a pass');
    expect(summary).toMatchObject({ ok: true, converged: true, errors: [] });
    const lines = readFileSync(audit, 'utf8').trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditLine);
    expect(lines.length, 'one line per change the summary counts').toBe(summary.added + summary.revoked);
    expect(new Set(lines.map((l) => `${l.passId} ${l.actor}`))).toEqual(new Set([`${summary.passId} lambda`]));
    expect(summary.revoked, 'the terminated members were collected').toBeGreaterThan(0);
    expect(f.check({ before: settled, changes: f.changes([audit]), changesComplete: true, samples, converged: true })).toEqual([]);
  });
});
