import {
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestSandbox, type TestSandbox } from './helpers.js';

let sb: TestSandbox;
let ec2: EC2Client;

beforeAll(async () => {
  sb = await startTestSandbox({ seed: 5 });
  ec2 = sb.ec2('eu-west-1');
});

afterAll(async () => {
  await sb.close();
});

/** Runs `act` and returns the `[instance-id, state]` pairs of the events it caused, in order. */
async function statesDuring(act: () => Promise<unknown>): Promise<[string, string][]> {
  const before = sb.sandbox.events.last;
  await act();
  return sb.sandbox.events.since(before).map(({ event }) => [event.detail['instance-id'], event.detail.state]);
}

async function launch(count = 1): Promise<string[]> {
  const out = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-0123456789abcdef0', MinCount: count, MaxCount: count }));
  return out.Instances!.map((i) => i.InstanceId!);
}

describe('EC2 Instance State-change Notifications', () => {
  it('announce a launch as pending then running, in EventBridge shape', async () => {
    const before = sb.sandbox.events.last;
    const [id] = await launch();
    const events = sb.sandbox.events.since(before).map((e) => e.event);
    expect(events.map((e) => e.detail)).toEqual([
      { 'instance-id': id, state: 'pending' },
      { 'instance-id': id, state: 'running' },
    ]);
    for (const e of events) {
      expect(e).toMatchObject({
        version: '0',
        'detail-type': 'EC2 Instance State-change Notification',
        source: 'aws.ec2',
        account: sb.sandbox.world.accountId,
        region: 'eu-west-1',
        resources: [`arn:aws:ec2:eu-west-1:${sb.sandbox.world.accountId}:instance/${id}`],
      });
      expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(e).not.toHaveProperty('detail.ip-address');
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  const lifecycle: [string, (id: string) => Promise<unknown>, string[]][] = [
    ['a stop', (id) => ec2.send(new StopInstancesCommand({ InstanceIds: [id] })), ['stopping', 'stopped']],
    ['a start', (id) => ec2.send(new StartInstancesCommand({ InstanceIds: [id] })), ['pending', 'running']],
    ['a termination', (id) => ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] })), ['shutting-down', 'terminated']],
  ];
  it('announce every step of a stop, a start and a termination', async () => {
    const [id] = await launch();
    for (const [, act, states] of lifecycle) {
      expect(await statesDuring(() => act(id!))).toEqual(states.map((s) => [id, s]));
    }
  });

  it('announce each instance of a call that changes several', async () => {
    const ids = await launch(3);
    const seen = await statesDuring(() => ec2.send(new TerminateInstancesCommand({ InstanceIds: ids })));
    expect(seen).toEqual(ids.flatMap((id) => [[id, 'shutting-down'], [id, 'terminated']]));
  });

  it.each([
    ['stopping a stopped instance', async (id: string) => {
      await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
      return () => ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    }],
    ['starting a running instance', (id: string) => Promise.resolve(() => ec2.send(new StartInstancesCommand({ InstanceIds: [id] })))],
    ['a dry run', (id: string) => Promise.resolve(() => errorCode(ec2.send(new StopInstancesCommand({ InstanceIds: [id], DryRun: true }))))],
    ['a refused call', (id: string) => Promise.resolve(() => errorCode(ec2.send(new StopInstancesCommand({ InstanceIds: [id, 'i-0123456789abcdef0'] }))))],
  ])('stay silent for %s', async (_what, setup) => {
    const [id] = await launch();
    const act = await setup(id!);
    expect(await statesDuring(act)).toEqual([]);
  });
});
