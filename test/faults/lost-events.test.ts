import { readFileSync } from 'node:fs';
import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../src/controller/lambda.js';
import { FaultFleet } from './fault-fleet.js';

const SCHEDULED = { version: '0', id: 'schedule', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012', time: '2026-11-26T06:00:00Z', region: 'us-east-1', resources: [], detail: {} };

describe('an EC2 state-change event that never arrives', () => {
  let fleet: FaultFleet | undefined;
  afterAll(() => fleet?.close());

  it('leaves the rule of a terminated instance for the next scheduled pass of the Lambda handler, which collects it', async () => {
    fleet = await FaultFleet.start({ seed: 81 });
    const ids = [...(await fleet.launch('eu-west-1', 4)), ...(await fleet.launch('ap-southeast-2', 2))];
    // The handler runs in this process, as Lambda would run it, with the same configuration file's text.
    process.env.AWS_ACCESS_KEY_ID = 'AKIDSANDBOX';
    process.env.AWS_SECRET_ACCESS_KEY = 'sandbox';
    const audit = fleet.auditFile('lambda.jsonl');
    const handler = createHandler({ env: { SGSYNC_CONFIG_YAML: readFileSync(fleet.config, 'utf8') }, log: pino({ level: 'silent' }), auditFile: audit });

    const first = await handler(SCHEDULED);
    expect(first).toMatchObject({ ok: true, event: 'schedule' });
    expect(fleet.check({ converged: true })).toEqual([]);

    // An instance terminates; its event is lost. Another instance's event does arrive: a pass
    // scoped to that instance, which must neither collect nor disturb anyone else's rule.
    const lostSeq = fleet.sandbox.events.last;
    await fleet.fleet.ec2('eu-west-1').send(new TerminateInstancesCommand({ InstanceIds: [ids[0]!] }));
    const lost = fleet.sandbox.events.since(lostSeq).map((e) => e.event);
    expect(lost.map((e) => e.detail.state)).toContain('terminated');
    const [other] = await fleet.launch('ap-southeast-2', 1);
    const heard = fleet.sandbox.events.since(lostSeq).map((e) => e.event).filter((e) => e.detail['instance-id'] === other);
    const before = fleet.view();
    const summaries = [];
    for (const event of heard) summaries.push(await handler(event));
    expect(summaries.filter((x) => x.event === 'instance')).toEqual([expect.objectContaining({ ok: true, instance: expect.objectContaining({ instanceId: other, state: 'running' }) })]);
    expect(fleet.view().rules.some((r) => r.instanceId === ids[0]), 'the stale rule is still there: nobody heard of it').toBe(true);
    expect(fleet.check({ before, changes: fleet.changes([audit]).filter((c) => c.instance === other), admission: 'every-member' })).toEqual([]);

    const settled = fleet.view();
    const cutoff = fleet.changes([audit]).length;
    const scheduled = await handler(SCHEDULED);
    expect(scheduled).toMatchObject({ ok: true, event: 'schedule' });
    const changes = fleet.changes([audit]).slice(cutoff);
    expect(changes.map((c) => `${c.action} ${c.instance}`)).toEqual([`revoke ${ids[0]}`]);
    expect(fleet.check({ before: settled, changes, converged: true })).toEqual([]);
  });
});
