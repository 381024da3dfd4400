/**
 * What a pass does to the rules already in the groups when sgsync.yaml
 * changes between passes: a changed port never leaves a member with no rule,
 * a renamed target's old rules go once the new ones stand, and a port change
 * the blast radius stops is held back whole.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startFleet, type Fleet, type JsonReport, type Run } from './controller-fleet.js';

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

const report = (run: Run) => JSON.parse(run.stdout) as JsonReport;

/** Rewrites the fleet's config: `from` must be in it. */
function edit(f: Fleet, from: string, to: string): void {
  const text = readFileSync(f.config, 'utf8');
  expect(text).toContain(from);
  writeFileSync(f.config, text.replace(from, to));
}

/** Each managed rule of the pool as `instance port target`, sorted. */
async function managed(f: Fleet): Promise<string[]> {
  const rules = (await f.poolRules()).filter((r) => r.Tags?.some((t) => t.Key === 'sgsync:managed-by'));
  const tag = (r: (typeof rules)[number], key: string) => r.Tags?.find((t) => t.Key === key)?.Value ?? (r.Description?.split(' ')[2] ?? '');
  return rules.map((r) => `${tag(r, 'sgsync:instance')} ${r.FromPort}-${r.ToPort} ${tag(r, 'sgsync:target')}`).sort();
}

const instancesOf = (rules: string[]) => new Set(rules.map((r) => r.split(' ')[0]));

describe('a configuration that changed between passes', () => {
  it('keeps every member admitted through a port change whose new rules AWS refuses, then replaces them once it accepts', async () => {
    const f = (fleet = await startFleet({ extra: 'safety: { graceSeconds: 0, revokeLimit: { count: 50, fraction: 1 } }' }));
    const ids = await f.launch('eu-west-1', 3);
    expect((await f.sgsync(['reconcile'])).code).toBe(0);
    edit(f, 'ports: [443/tcp]', 'ports: [443-444/tcp]');

    f.running.sandbox.faults.set({ rules: [{ action: 'AuthorizeSecurityGroupIngress', region: '*', error: { code: 'UnauthorizedOperation', rate: 1 }, internalErrorRate: 0, unavailableRate: 0, latencyMs: 0, jitterMs: 0, dropRate: 0 }] });
    const refused = await f.sgsync(['reconcile', '--json']);
    f.running.sandbox.faults.set({ rules: [] });
    expect(refused.code).not.toBe(0);
    // Nothing new landed, so nothing old went: every member still has its 443 rule.
    expect(await managed(f)).toEqual(ids.map((id) => `${id} 443-443 api`).sort());

    const accepted = await f.sgsync(['reconcile', '--json']);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(report(accepted).targets[0]!.revoke.map((r) => r.reason)).toEqual(['port-removed', 'port-removed', 'port-removed']);
    expect(await managed(f)).toEqual(ids.map((id) => `${id} 443-444 api`).sort());
  });

  it("keeps a member's old rule while its new one finds no room, and says so, instead of giving its room to another", async () => {
    // Two groups of 3: the first holds two foreign rules, so the pool holds four rules in all.
    const f = (fleet = await startFleet({ quota: 3, extra: 'safety: { graceSeconds: 0, revokeLimit: { count: 50, fraction: 1 } }' }));
    const ids = await f.launch('eu-west-1', 4);
    expect((await f.sgsync(['reconcile'])).code).toBe(0);
    // Each member now needs two rules: only two members' fit, in the room all four old rules hold.
    edit(f, 'ports: [443/tcp]', 'ports: [443/udp, 8443/tcp]');

    const run = await f.sgsync(['reconcile', '--json']);
    const t = report(run).targets[0]!;
    expect(t.blocked.length).toBeGreaterThan(0);
    expect(t.kept.every((k) => k.reason === 'replacement-blocked')).toBe(true);
    expect(t.kept.length).toBeGreaterThan(0);
    // Every member holds a rule: its new ones, or its old one.
    expect(instancesOf(await managed(f))).toEqual(new Set(ids));
    const status = await f.sgsync(['status']);
    expect(status.code).toBe(10);
    expect(status.stdout).toMatch(/replacement-blocked/);
  });

  it("revokes a renamed target's old rules in the pass that adds the new name's, and nothing is left behind", async () => {
    const f = (fleet = await startFleet({ extra: 'safety: { graceSeconds: 0, revokeLimit: { count: 50, fraction: 1 } }' }));
    const ids = await f.launch('ap-southeast-2', 2);
    expect((await f.sgsync(['reconcile'])).code).toBe(0);
    edit(f, '- name: api', '- name: api2');

    const run = await f.sgsync(['reconcile', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(report(run).targets[0]!.revoke.map((r) => r.reason)).toEqual(['target-removed', 'target-removed']);
    expect(report(run).warnings).toEqual([]);
    expect(await managed(f)).toEqual(ids.map((id) => `${id} 443-443 api2`).sort());
    expect((await f.sgsync(['plan'])).code).toBe(0);
  });

  it('holds a port change the blast radius stops back whole, pass after pass, until it is forced', async () => {
    const f = (fleet = await startFleet({ extra: 'safety: { graceSeconds: 0, revokeLimit: { count: 50, fraction: 0.5 } }' }));
    const ids = await f.launch('eu-west-1', 3);
    expect((await f.sgsync(['reconcile'])).code).toBe(0);
    edit(f, 'ports: [443/tcp]', 'ports: [4433/tcp]');

    for (const pass of [1, 2]) {
      const run = await f.sgsync(['reconcile', '--json']);
      expect(run.code, `pass ${pass}`).toBe(8);
      expect(report(run).targets[0]!.blocked).toHaveLength(3);
      expect(await managed(f)).toEqual(ids.map((id) => `${id} 443-443 api`).sort());
    }
    const forced = await f.sgsync(['reconcile', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await managed(f)).toEqual(ids.map((id) => `${id} 4433-4433 api`).sort());
  });
});
