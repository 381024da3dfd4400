import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import type { Member } from '../core/model.js';
import type { Ec2Port } from '../core/ports.js';
import { controllerPass } from './pass.js';

const yaml = (members: string) =>
  ['deployment: prod', 'targets:', `  - { name: api, region: us-east-1, groups: [sg-0123456789abcdef0], ports: [443], members: { ${members} } }`].join('\n');
const config = parseConfig(yaml('regions: [eu-west-1], tags: { role: api }'), 'sgsync.yaml');

const member: Member = { instanceId: 'i-0aaaaaaaaaaaaaaa1', region: 'eu-west-1', state: 'running', publicIpv4: '52.95.0.1', ipv6: [], tags: { role: 'api' } };

/** A promise and the functions that settle it. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** An EC2 whose instance listing answers only when the test says, recording the order of events. */
function slowListing() {
  const listed = deferred<Member[]>();
  const events: string[] = [];
  const ec2: Ec2Port = {
    enabledRegions: () => Promise.resolve(['eu-west-1']),
    listMembers: () => {
      events.push('list');
      return listed.promise;
    },
    listRules: () => {
      events.push('rules');
      return Promise.resolve([]);
    },
    authorize: (batch) => {
      events.push('authorize');
      return Promise.resolve({ created: batch.items.map((r, i) => ({ ruleId: `sgr-${i}`, cidr: r.cidr, protocol: 'tcp', fromPort: 443, toPort: 443 })), duplicate: false });
    },
    revoke: () => Promise.resolve({ revoked: [], notFound: false }),
  };
  return { ec2, listed, events };
}

describe('controllerPass', () => {
  it('reads the rules while the instances are listed, and plans once both are in', async () => {
    const { ec2, listed, events } = slowListing();
    const pass = controllerPass({ config, ec2, apply: true });
    // Let every read start: the rules come back while the listing is still out.
    await new Promise((r) => setTimeout(r, 20));
    expect(events.sort()).toEqual(['list', 'rules']);
    listed.resolve([member]);
    const result = await pass;
    expect(events).toEqual(['list', 'rules', 'authorize']);
    expect(result.changes.map((c) => [c.action, c.instanceId])).toEqual([['authorize', member.instanceId]]);
    // The rule reads' wait for the listing is the listing's time, not theirs.
    expect(result.inventoryMs).toBeGreaterThanOrEqual(15);
    expect(result.timings.observeMs).toBeLessThan(result.inventoryMs);
  });

  it('lists the pool groups while their rules are read, once per target region, and plans once everything is in', async () => {
    const { ec2, listed, events } = slowListing();
    const groups = deferred<string[]>();
    ec2.existingGroups = (region, ids) => {
      events.push(`groups ${region} ${ids.join(' ')}`);
      return groups.promise;
    };
    const pass = controllerPass({ config, ec2, apply: true });
    await new Promise((r) => setTimeout(r, 20));
    expect([...events].sort()).toEqual(['groups us-east-1 sg-0123456789abcdef0', 'list', 'rules']);
    listed.resolve([member]);
    await new Promise((r) => setTimeout(r, 20));
    // The listing is in, but the plan waits for the groups too.
    expect(events).not.toContain('authorize');
    groups.resolve(['sg-0123456789abcdef0']);
    const result = await pass;
    expect(events.at(-1)).toBe('authorize');
    expect(result.groupCheck).toEqual({ missing: [], unchecked: [] });
  });

  it('reads the rules of retired groups in the same calls as the pools\', and takes one that does not exist for drained, not for an error', async () => {
    const { ec2, listed, events } = slowListing();
    ec2.listRules = (region, ids) => {
      events.push(`rules ${region} ${ids.join(' ')}`);
      return Promise.resolve([]);
    };
    ec2.existingGroups = (region, ids) => {
      events.push(`groups ${region} ${ids.join(' ')}`);
      return Promise.resolve(['sg-0123456789abcdef0']);
    };
    const retiring = parseConfig(
      ['deployment: prod', 'targets:', '  - { name: api, region: us-east-1, groups: [sg-0123456789abcdef0], retiredGroups: [sg-0123456789abcdef1], ports: [443], members: { regions: [eu-west-1] } }'].join('\n'),
      'sgsync.yaml',
    );
    listed.resolve([member]);
    const result = await controllerPass({ config: retiring, ec2, apply: false });
    expect(events.filter((e) => e !== 'list').sort()).toEqual(['groups us-east-1 sg-0123456789abcdef0 sg-0123456789abcdef1', 'rules us-east-1 sg-0123456789abcdef0 sg-0123456789abcdef1']);
    expect(result.errors).toEqual([]);
    expect(result.plan.missing).toEqual([]);
    expect(result.plan.retired).toEqual([{ target: 'api', groupId: 'sg-0123456789abcdef1', region: 'us-east-1', rules: 0, left: 0, missing: true }]);
  });

  it('fails with the listing\'s error, and changes nothing, when the regions cannot be listed', async () => {
    const { ec2, events } = slowListing();
    ec2.enabledRegions = () => Promise.reject(new Error('DescribeRegions: access denied'));
    // No member regions in the config: the pass asks EC2 which regions are enabled.
    const bare = parseConfig(yaml('tags: { role: api }'), 'sgsync.yaml');
    await expect(controllerPass({ config: bare, ec2, apply: true })).rejects.toThrow('DescribeRegions: access denied');
    expect(events).toEqual(['rules']);
  });

  it('fails with the rules\' error when they cannot be read, and the listing failing later is not an unhandled rejection', async () => {
    const { ec2 } = slowListing();
    const regions = deferred<string[]>();
    ec2.enabledRegions = () => regions.promise;
    ec2.listRules = () => Promise.reject(new Error('DescribeSecurityGroupRules: throttled'));
    const bare = parseConfig(yaml('tags: { role: api }'), 'sgsync.yaml');
    await expect(controllerPass({ config: bare, ec2, apply: true })).rejects.toThrow('DescribeSecurityGroupRules: throttled');
    regions.reject(new Error('DescribeRegions: throttled'));
    // Vitest fails the run on an unhandled rejection; give one the chance to surface.
    await new Promise((r) => setTimeout(r, 20));
  });

  it('cuts the listing short when the rules cannot be read: no region is reported, none is started after', async () => {
    const { ec2 } = slowListing();
    ec2.enabledRegions = () => Promise.resolve(['ap-south-1', 'eu-west-1', 'us-west-2']);
    const signals: AbortSignal[] = [];
    ec2.listMembers = (_region, options) => {
      const signal = options?.signal;
      if (signal) signals.push(signal);
      // Answers only when aborted, as the EC2 adapter does with a call in flight.
      return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new Error('Request aborted'))));
    };
    const rules = deferred<never>();
    ec2.listRules = () => rules.promise;
    const reported: string[] = [];
    const three = parseConfig(yaml('regions: [eu-west-1, us-west-2, ap-south-1], tags: { role: api }'), 'sgsync.yaml');
    three.config.controller.concurrency = 2;
    const pass = controllerPass({ config: three, ec2, apply: true, onRegion: (r) => reported.push(r.region) });
    await new Promise((r) => setTimeout(r, 20));
    expect(signals.map((s) => s.aborted)).toEqual([false, false]);
    rules.reject(new Error('DescribeSecurityGroupRules: denied'));
    await expect(pass).rejects.toThrow('DescribeSecurityGroupRules: denied');
    await new Promise((r) => setTimeout(r, 20));
    expect(signals.map((s) => s.aborted)).toEqual([true, true]);
    expect(reported).toEqual([]);
  });

  it('lists more than ten regions at once without Node warning of a listener leak on the signal they share', async () => {
    const { ec2 } = slowListing();
    const regions = Array.from({ length: 17 }, (_, i) => `eu-test-${i + 1}`);
    ec2.enabledRegions = () => Promise.resolve(regions);
    const listening = deferred<void>();
    let inFlight = 0;
    ec2.listMembers = async (_region, options) => {
      // As the SDK's HTTP handler does for each request: a listener for as long as the call is out.
      const onAbort = () => undefined;
      options?.signal?.addEventListener('abort', onAbort, { once: true });
      if (++inFlight === regions.length) listening.resolve();
      await listening.promise;
      options?.signal?.removeEventListener('abort', onAbort);
      return [];
    };
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const wide = parseConfig(yaml(`regions: [${regions.join(', ')}], tags: { role: api }`), 'sgsync.yaml');
      wide.config.controller.concurrency = regions.length;
      const result = await controllerPass({ config: wide, ec2, apply: false });
      expect(result.inventory.regions).toHaveLength(17);
      // Node emits the warning on the next tick; give it one.
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => w.name)).toEqual([]);
  });
});
