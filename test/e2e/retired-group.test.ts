/**
 * A group taken out of the pool with `retiredGroups`: one `reconcile` moves
 * its members into the pool and empties it of sgsync's rules, its foreign
 * rules untouched; members the pool has no room for keep their old rule.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuthorizeSecurityGroupIngressCommand, type SecurityGroupRule } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { parseReport, PRIMARY, startFleet, type Fleet } from './controller-fleet.js';

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

const SAFETY = 'safety: { graceSeconds: 0, revokeLimit: { count: 50, fraction: 1 } }';

/** Rewrites the fleet's config: `from` must be in it. */
function edit(f: Fleet, from: string, to: string): void {
  const text = readFileSync(f.config, 'utf8');
  expect(text).toContain(from);
  writeFileSync(f.config, text.replace(from, to));
}

const isManaged = (r: SecurityGroupRule) => r.Tags?.some((t) => t.Key === 'sgsync:managed-by' && t.Value === 'e2e') === true;
const instanceOf = (r: SecurityGroupRule) => r.Tags?.find((t) => t.Key === 'sgsync:instance')?.Value ?? /(i-[0-9a-f]+)/.exec(r.Description ?? '')?.[1] ?? '?';

/** The managed rules' instances in each group of the pool, sorted. */
async function holders(f: Fleet): Promise<Record<string, string[]>> {
  const rules = (await f.poolRules()).filter(isManaged);
  return Object.fromEntries(f.pool.map((g) => [g, rules.filter((r) => r.GroupId === g).map(instanceOf).sort()]));
}

/** A rule by hand in the group to be retired, which sgsync must leave alone. */
async function foreignRule(f: Fleet, groupId: string): Promise<void> {
  await f.ec2(PRIMARY).send(
    new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '203.0.113.7/32', Description: 'partner' }] }] }),
  );
}

const auditLines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { action: string; group: string; instance: string; reason: string });

describe('a retired group', () => {
  it("is drained by one reconcile: its members' rules move into the pool, and its foreign rule stays", async () => {
    const f = (fleet = await startFleet({ extra: SAFETY }));
    const [a, b] = f.pool;
    await foreignRule(f, b);
    const ids = await f.launch('eu-west-1', 8);
    expect((await f.sgsync(['reconcile'])).code).toBe(0);
    const before = await holders(f);
    // The fleet was spread over both groups of the pool.
    expect(before[b]!.length).toBeGreaterThan(0);

    edit(f, `groups: [${a}, ${b}]`, `groups: [${a}]\n    retiredGroups: [${b}]`);
    const audit = join(f.dir, 'audit.jsonl');
    const run = await f.sgsync(['reconcile', '--json', '--audit-log', audit]);
    expect(run.code, run.stderr).toBe(0);
    expect(await holders(f)).toEqual({ [a]: [...ids].sort(), [b]: [] });
    expect((await f.poolRules()).filter((r) => r.GroupId === b && !isManaged(r)).map((r) => r.CidrIpv4)).toEqual(['203.0.113.7/32']);

    const lines = auditLines(audit);
    expect(lines.filter((l) => l.action === 'revoke').map((l) => `${l.group} ${l.instance} ${l.reason}`).sort()).toEqual(before[b]!.map((id) => `${b} ${id} group-retired`));
    // Each moved member's new rule was authorized before its old one was revoked.
    for (const id of before[b]!) {
      const at = (action: string) => lines.findIndex((l) => l.action === action && l.instance === id);
      expect(at('authorize')).toBeGreaterThanOrEqual(0);
      expect(at('authorize')).toBeLessThan(at('revoke'));
    }
    const t = parseReport(run).targets[0]!;
    expect(t.retired).toEqual([{ groupId: b, rules: before[b]!.length, left: 0 }]);
    expect(t.foreign.map((x) => x.cidr)).toContain('203.0.113.7/32');

    const plan = await f.sgsync(['plan']);
    expect(plan.code, plan.stdout).toBe(0);
    expect(plan.stdout).toContain(`Retired ${b}: empty; remove it from retiredGroups`);
  });

  it('keeps the old rule of each member the pool has no room for, and says so, while the others move', async () => {
    // Quota 6: the first group holds two foreign rules (room for 4), the second one (room for 5).
    const f = (fleet = await startFleet({ quota: 6, extra: SAFETY }));
    const [a, b] = f.pool;
    await foreignRule(f, b);
    edit(f, `groups: [${a}, ${b}]`, `groups: [${b}]`);
    const ids = await f.launch('ap-southeast-2', 5);
    expect((await f.sgsync(['reconcile'])).code).toBe(0);
    expect(await holders(f)).toEqual({ [a]: [], [b]: [...ids].sort() });

    edit(f, `groups: [${b}]`, `groups: [${a}]\n    retiredGroups: [${b}]`);
    const audit = join(f.dir, 'audit.jsonl');
    const run = await f.sgsync(['reconcile', '--json', '--audit-log', audit]);
    // A member is blocked: nothing was evicted.
    expect(run.code, run.stderr).toBe(5);
    const now = await holders(f);
    expect(now[a]).toHaveLength(4);
    expect(now[b]).toHaveLength(1);
    expect([...now[a]!, ...now[b]!].sort()).toEqual([...ids].sort());
    const t = parseReport(run).targets[0]!;
    expect(t.blocked.map((x) => x.instanceId)).toEqual(now[b]);
    expect(t.kept.map((k) => `${k.instanceId} ${k.reason}`)).toEqual([`${now[b]![0]} replacement-blocked`]);
    expect(t.retired).toEqual([{ groupId: b, rules: 5, left: 1 }]);
    expect(auditLines(audit).filter((l) => l.action === 'revoke').map((l) => l.reason)).toEqual(Array(4).fill('group-retired'));

    const status = await f.sgsync(['status']);
    expect(status.code).toBe(10);
    expect(status.stdout).toContain(`Retired ${b}: 1 rule, still there after a pass`);
  });
});
