import { describe, expect, it } from 'vitest';
import { API_GROUP, BATCH_GROUP, DB_GROUP, FakeEc2, FakeInstance, WORKER, agentConfig, fakeDeps } from '../../test/support/agent-fakes.js';
import type { Member } from '../core/model.js';
import { watch, type WatchStatus } from './watch.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Runs `watch` over the fakes. `script` runs at each read of the instance
 * (about one per poll) with its number; the watch is stopped by signal at
 * the 40th, so a watch that misses what the script does ends as 'signal'
 * rather than never.
 */
function watching(ec2: FakeEc2, instance: FakeInstance, script: (read: number) => void = () => undefined, config = agentConfig()) {
  const stop = new AbortController();
  const statuses: WatchStatus[] = [];
  instance.onSelf = (read) => {
    script(read);
    if (read >= 40) stop.abort();
  };
  const end = watch(fakeDeps(ec2, instance, config), { pollMs: 0, signal: stop.signal, log: quiet, onStatus: (s) => statuses.push(s) });
  return { end, stop, statuses };
}

const noPublicAddress: Member = { ...WORKER, publicIpv4: undefined };
const groupsOf = (ec2: FakeEc2, id = WORKER.instanceId) => ec2.rulesOf(id).map((r) => r.groupId).sort();

describe('agent watch, while the instance is not admitted everywhere', () => {
  it.each([
    ['a spot interruption notice', 'spot-notice', (i: FakeInstance) => (i.notice = { action: 'terminate', time: '2030-01-01T00:02:00Z' })],
    ['the lifecycle state Terminated', 'lifecycle-terminated', (i: FakeInstance) => (i.lifecycle = 'Terminated')],
  ])('deregisters on %s, removing the rules the targets that admit it gave it', async (_what, ended, notify) => {
    const ec2 = new FakeEc2();
    const instance = new FakeInstance(noPublicAddress);
    let before: string[] = [];
    const { end } = watching(ec2, instance, (read) => {
      if (read === 3) {
        before = groupsOf(ec2);
        notify(instance);
      }
    });
    expect(await end).toBe(ended);
    // api refuses an instance without a public address; db admitted it.
    expect(before).toEqual([DB_GROUP]);
    expect(groupsOf(ec2)).toEqual([]);
  });

  it('deregisters on a notice while IMDS shows none of its tags', async () => {
    const ec2 = new FakeEc2();
    const instance = new FakeInstance({ ...WORKER, tags: {} });
    const { end } = watching(ec2, instance, (read) => {
      if (read === 3) instance.notice = { action: 'stop', time: '2030-01-01T00:02:00Z' };
    });
    expect(await end).toBe('spot-notice');
  });
});

describe('agent watch and the Auto Scaling target lifecycle state', () => {
  it.each(['Terminated', 'Warmed:Terminated'])('deregisters on %s', async (state) => {
    const ec2 = new FakeEc2();
    const instance = new FakeInstance(WORKER);
    let before: string[] = [];
    const { end } = watching(ec2, instance, (read) => {
      if (read === 3) {
        before = groupsOf(ec2);
        instance.lifecycle = state;
      }
    });
    expect(await end).toBe('lifecycle-terminated');
    expect(before).toEqual([API_GROUP, DB_GROUP]);
    expect(groupsOf(ec2)).toEqual([]);
  });

  it.each(['InService', 'Warmed:Running', 'Warmed:Stopped'])('keeps the rules on %s', async (state) => {
    const ec2 = new FakeEc2();
    const instance = new FakeInstance(WORKER);
    let during: string[] = [];
    const { end } = watching(ec2, instance, (read) => {
      if (read === 3) instance.lifecycle = state;
      if (read === 6) during = groupsOf(ec2);
    });
    expect(await end).toBe('signal');
    expect(during).toEqual([API_GROUP, DB_GROUP]);
  });
});

describe('agent watch removes what it authorized, whatever the listing shows', () => {
  it('revokes by id the rules it authorized that DescribeSecurityGroupRules does not list yet', async () => {
    const ec2 = new FakeEc2();
    ec2.lagging = true;
    const instance = new FakeInstance(WORKER);
    let before: string[] = [];
    const { end } = watching(ec2, instance, (read) => {
      if (read === 3) before = groupsOf(ec2);
      if (read === 4) instance.notice = { action: 'terminate', time: '2030-01-01T00:02:00Z' };
    });
    expect(await end).toBe('spot-notice');
    expect(before).toEqual([API_GROUP, DB_GROUP]);
    expect(groupsOf(ec2)).toEqual([]);
  });

  it('takes a rule someone else revoked meanwhile as gone, and still revokes the rest', async () => {
    const ec2 = new FakeEc2();
    ec2.lagging = true;
    const instance = new FakeInstance(WORKER);
    const { end, stop } = watching(ec2, instance, (read) => {
      if (read === 3) {
        // A controller revoked the api rule (it saw the instance stopped, say).
        const api = ec2.rulesOf(WORKER.instanceId).find((r) => r.groupId === API_GROUP);
        if (api) ec2.rules.delete(api.ruleId);
        stop.abort();
      }
    });
    expect(await end).toBe('signal');
    expect(groupsOf(ec2)).toEqual([]);
  });
});

describe('agent watch follows the targets that select the instance', () => {
  it('registers again when its tags change: a target that no longer selects it loses its rule, one that now does gains one', async () => {
    const ec2 = new FakeEc2();
    const instance = new FakeInstance(WORKER);
    let before: string[] = [];
    let after: string[] = [];
    const { end } = watching(ec2, instance, (read) => {
      if (read === 3) {
        before = groupsOf(ec2);
        instance.member = { ...instance.member, tags: { role: 'batch' } };
      }
      if (read === 8) after = groupsOf(ec2);
    });
    expect(await end).toBe('signal');
    expect(before).toEqual([API_GROUP, DB_GROUP]);
    expect(after).toEqual([BATCH_GROUP]);
  });
});

describe('agent watch readiness', () => {
  it('is ready after its first attempt even when a target refuses the instance, saying which, and says so again once it is admitted', async () => {
    const ec2 = new FakeEc2();
    const instance = new FakeInstance(noPublicAddress);
    const seen: WatchStatus[][] = [];
    const run = watching(ec2, instance, (read) => {
      if (read === 2) seen.push([...run.statuses]);
      // An Elastic IP is associated.
      if (read === 4) instance.member = WORKER;
      if (read === 8) run.stop.abort();
    });
    expect(await run.end).toBe('signal');
    expect(seen[0]).toEqual([{ admitted: false, text: expect.stringMatching(/^not admitted yet, trying again every poll: target api: .*public/) }]);
    expect(run.statuses[0]).toEqual(seen[0]![0]);
    expect(run.statuses.at(-1)).toEqual({ admitted: true, text: `admitted by api, db (${WORKER.publicIpv4})` });
    expect(run.statuses.filter((s) => s.admitted)).toHaveLength(1);
  });

  it('is ready once registered when every target admits the instance', async () => {
    const ec2 = new FakeEc2();
    const instance = new FakeInstance(WORKER);
    const run = watching(ec2, instance, (read) => {
      if (read === 3) run.stop.abort();
    });
    expect(await run.end).toBe('signal');
    expect(run.statuses).toEqual([{ admitted: true, text: `admitted by api, db (${WORKER.publicIpv4})` }]);
  });

  it('names the instance by its IPv6 addresses too', async () => {
    const ec2 = new FakeEc2();
    const instance = new FakeInstance({ ...WORKER, ipv6: ['2600:1f18::a'] });
    const run = watching(ec2, instance, (read) => {
      if (read === 3) run.stop.abort();
    });
    expect(await run.end).toBe('signal');
    expect(run.statuses.at(-1)?.text).toBe(`admitted by api, db (${WORKER.publicIpv4}, 2600:1f18::a)`);
  });
});
