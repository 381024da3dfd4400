import { describe, expect, it } from 'vitest';
import { SgsyncError } from './errors.js';
import type { GroupBatch, Plan, PlannedRevoke, PlannedRule } from './model.js';
import type { Ec2Port } from './ports.js';
import { authorizeOrder, holdIfHalted, revokeOrder, runPass, type PassTime } from './reconcile.js';

const port = { protocol: 'tcp' as const, fromPort: 443, toPort: 443 };
/** No waits between rounds and no clock: a test's pass runs at once. */
const time: PassTime = { sleep: () => Promise.resolve(), random: () => 0.5, monotonicNow: () => 0 };

function emptyPlan(over: Partial<Plan> = {}): Plan {
  return { deployment: 'prod', scope: { kind: 'all' }, at: '2025-06-01T12:00:00.000Z', authorize: [], revoke: [], blocked: [], refused: [], kept: [], foreign: [], capacity: [], missing: [], warnings: [], ...over };
}

const add: PlannedRule = { groupId: 'sg-1', target: 'api', family: 'ipv4', cidr: '54.0.0.9/32', port, instanceId: 'i-9', memberRegion: 'eu-west-1', description: 'sgsync prod/api i-9 eu-west-1', tags: {} };
const stale = (n: number): PlannedRevoke => ({ ruleId: `sgr-${n}`, groupId: 'sg-1', target: 'api', family: 'ipv4', cidr: `54.0.0.${n}/32`, port, instanceId: `i-${n}`, memberRegion: 'eu-west-1', reason: 'instance-terminated' });

describe('runPass', () => {
  it('revokes nothing in a later round when its first plan was halted, though fewer rules are stale by then', async () => {
    const revoked: string[] = [];
    let authorizeCalls = 0;
    const ec2: Ec2Port = {
      enabledRegions: () => Promise.resolve(['eu-west-1']),
      listMembers: () => Promise.resolve([]),
      listRules: () => Promise.resolve([]),
      // The first authorize loses a race (someone else added the rule), which makes the pass look again.
      authorize: () => Promise.resolve(++authorizeCalls === 1 ? { created: [], duplicate: true } : { created: [], duplicate: false }),
      revoke: (batch) => {
        revoked.push(...batch.items.map((r) => r.ruleId));
        return Promise.resolve({ revoked: batch.items.map((r) => r.ruleId), notFound: false });
      },
    };
    const halted = { reason: 'blast-radius' as const, wouldRevoke: 6, limit: 4, managed: 10 };
    const plans = [
      emptyPlan({ authorize: [{ groupId: 'sg-1', region: 'us-east-1', items: [add] }], halted }),
      // Meanwhile another writer revoked two of the six: the next look finds four stale, within the limit.
      emptyPlan({ revoke: [{ groupId: 'sg-1', region: 'us-east-1', items: [1, 2, 3, 4].map(stale) }] }),
    ];
    let planned = 0;
    const result = await runPass({ ec2, groups: [{ region: 'us-east-1', groupIds: ['sg-1'] }], apply: true, ...time, makePlan: () => plans[Math.min(planned++, plans.length - 1)]! });
    expect(planned).toBe(2);
    expect(revoked).toEqual([]);
    expect(result.changes.filter((c) => c.action === 'revoke')).toEqual([]);
    expect(result.plan.halted).toEqual(halted);
    expect(result.lastPlan.kept.map((k) => `${k.ruleId}:${k.reason}`)).toEqual(['sgr-1:blast-radius', 'sgr-2:blast-radius', 'sgr-3:blast-radius', 'sgr-4:blast-radius']);
  });

  it("holds back, in a later round of a halted pass, the new rules of a member whose old ones it holds for a changed port", () => {
    const halted = { reason: 'blast-radius' as const, wouldRevoke: 6, limit: 4, managed: 10 };
    const moved: PlannedRule = { ...add, instanceId: 'i-1', cidr: '54.0.0.1/32', port: { protocol: 'tcp', fromPort: 8443, toPort: 8443 } };
    const later = emptyPlan({
      authorize: [{ groupId: 'sg-1', region: 'us-east-1', items: [moved, add] }],
      revoke: [{ groupId: 'sg-1', region: 'us-east-1', items: [{ ...stale(1), reason: 'port-removed' }, stale(2)] }],
    });
    const held = holdIfHalted(later, emptyPlan({ halted }));
    expect(held.revoke).toEqual([]);
    expect(held.authorize.flatMap((b) => b.items.map((r) => r.instanceId))).toEqual(['i-9']);
    expect(held.blocked.map((b) => `${b.instanceId}:${b.reason}`)).toEqual(['i-1:halted']);
    expect(held.kept.map((k) => `${k.ruleId}:${k.wouldRevoke}`)).toEqual(['sgr-1:port-removed', 'sgr-2:instance-terminated']);
  });

  it('still revokes, in a later round of a halted pass, a rule wider than one address, which the limit does not count', () => {
    const halted = { reason: 'blast-radius' as const, wouldRevoke: 6, limit: 4, managed: 10 };
    const open: PlannedRevoke = { ...stale(3), cidr: '0.0.0.0/0', reason: 'malformed' };
    const later = emptyPlan({ revoke: [{ groupId: 'sg-1', region: 'us-east-1', items: [stale(1), open] }] });
    const held = holdIfHalted(later, emptyPlan({ halted }));
    expect(held.revoke.flatMap((b) => b.items.map((r) => `${r.ruleId}:${r.reason}`))).toEqual(['sgr-3:malformed']);
    expect(held.kept.map((k) => `${k.ruleId}:${k.wouldRevoke}`)).toEqual(['sgr-1:instance-terminated']);
    expect(holdIfHalted(emptyPlan({ revoke: [{ groupId: 'sg-1', region: 'us-east-1', items: [open] }] }), emptyPlan({ halted })).revoke).toHaveLength(1);
  });

  describe('order of changes', () => {
    // A member's rule replaced: 443 became 443-444. The old rule is revoked, the new one authorized, in the same group.
    const replacement: PlannedRule = { ...add, instanceId: 'i-1', cidr: '54.0.0.1/32', port: { protocol: 'tcp', fromPort: 443, toPort: 444 } };
    const old: PlannedRevoke = { ...stale(1), reason: 'port-removed' };
    const line = (before: number, quota = 60) => ({ target: 'api', groupId: 'sg-1', family: 'ipv4' as const, quota, before, after: before, managed: before, foreign: 0 });
    const replacing = (before: number, quota = 60) =>
      emptyPlan({ authorize: [{ groupId: 'sg-1', region: 'us-east-1', items: [replacement] }], revoke: [{ groupId: 'sg-1', region: 'us-east-1', items: [old] }], capacity: [line(before, quota)] });
    const recording = (calls: string[], authorizeFails?: SgsyncError): Ec2Port => ({
      enabledRegions: () => Promise.resolve(['eu-west-1']),
      listMembers: () => Promise.resolve([]),
      listRules: () => Promise.resolve([]),
      authorize: (batch) => {
        calls.push(`authorize ${batch.items.map((r) => r.cidr).join(',')}`);
        return authorizeFails ? Promise.reject(authorizeFails) : Promise.resolve({ created: batch.items.map((r, i) => ({ ruleId: `sgr-new${i}`, cidr: r.cidr, protocol: 'tcp', fromPort: r.port.fromPort ?? -1, toPort: r.port.toPort ?? -1 })), duplicate: false });
      },
      revoke: (batch) => {
        calls.push(`revoke ${batch.items.map((r) => r.ruleId).join(',')}`);
        return Promise.resolve({ revoked: batch.items.map((r) => r.ruleId), notFound: false });
      },
    });
    const pass = (ec2: Ec2Port, p: Plan) => runPass({ ec2, groups: [{ region: 'us-east-1', groupIds: ['sg-1'] }], apply: true, maxRounds: 1, ...time, makePlan: () => p });

    it("authorizes a member's new rule before revoking its old one when the group has room for it as it is", async () => {
      const calls: string[] = [];
      await pass(recording(calls), replacing(10));
      expect(calls).toEqual(['authorize 54.0.0.1/32', 'revoke sgr-1']);
    });

    it('keeps the old rule when the new one is refused, so the member is never left with neither', async () => {
      const calls: string[] = [];
      const result = await pass(recording(calls, new SgsyncError('PERMISSION_DENIED', 'not allowed')), replacing(10));
      expect(calls).toEqual(['authorize 54.0.0.1/32']);
      expect(result.errors.map((e) => e.code)).toEqual(['PERMISSION_DENIED']);
      expect(result.changes).toEqual([]);
    });

    it("still revokes what does not replace anything when an authorize fails: another member's stale rule, or the old address of this one", async () => {
      const calls: string[] = [];
      const p = replacing(10);
      p.revoke[0]!.items.push(stale(2), { ...stale(3), instanceId: 'i-1', reason: 'address-changed' });
      await pass(recording(calls, new SgsyncError('PERMISSION_DENIED', 'not allowed')), p);
      expect(calls).toEqual(['authorize 54.0.0.1/32', 'revoke sgr-2,sgr-3']);
    });

    it('revokes first when the new rules need the room the revokes free', async () => {
      const calls: string[] = [];
      await pass(recording(calls), replacing(60));
      expect(calls).toEqual(['revoke sgr-1', 'authorize 54.0.0.1/32']);
    });

    describe("a member's rule in a retired group", () => {
      // i-1's rule is in sg-9, which its target retired; its new rule goes to sg-1, which is full until i-2's rule goes.
      const moving: PlannedRule = { ...add, instanceId: 'i-1', cidr: '54.0.0.1/32' };
      const retired: PlannedRevoke = { ...stale(1), ruleId: 'sgr-r', groupId: 'sg-9', reason: 'group-retired' };
      const draining = (before: number) =>
        emptyPlan({
          authorize: [{ groupId: 'sg-1', region: 'us-east-1', items: [moving] }],
          revoke: [{ groupId: 'sg-1', region: 'us-east-1', items: [stale(2)] }, { groupId: 'sg-9', region: 'us-east-1', items: [retired] }],
          capacity: [line(before)],
        });

      it('goes after its new rule in the pool when that rule has room as it is', async () => {
        const calls: string[] = [];
        await pass(recording(calls), draining(10));
        expect(calls).toEqual(['authorize 54.0.0.1/32', 'revoke sgr-2', 'revoke sgr-r']);
      });

      it('goes after its new rule in the pool when that rule needs the room a revoke frees, too', async () => {
        const calls: string[] = [];
        await pass(recording(calls), draining(60));
        expect(calls).toEqual(['revoke sgr-2', 'authorize 54.0.0.1/32', 'revoke sgr-r']);
      });

      it('stays when its new rule is refused, so the member is never left with neither', async () => {
        const calls: string[] = [];
        await pass(recording(calls, new SgsyncError('PERMISSION_DENIED', 'not allowed')), draining(60));
        expect(calls).toEqual(['revoke sgr-2', 'authorize 54.0.0.1/32']);
      });

      it('goes with the other revokes when a late batch goes into its own group, whose room it may free', () => {
        const late = [{ groupId: 'sg-9', region: 'us-east-1', items: [moving] }];
        const batches = [{ groupId: 'sg-9', region: 'us-east-1', items: [retired, stale(2)] }];
        expect(revokeOrder(batches, late)).toEqual({ now: batches, afterLate: [] });
        expect(revokeOrder(batches, [{ ...late[0]!, groupId: 'sg-1' }])).toEqual({
          now: [{ ...batches[0]!, items: [stale(2)] }],
          afterLate: [{ ...batches[0]!, items: [retired] }],
        });
      });
    });

    it.each<[string, number, number, string[]]>([
      ['a group with room for every rule planned into it goes first', 58, 60, ['early']],
      ['one rule more than the room waits for the revokes', 59, 60, ['late']],
      ['a group with no capacity line (nothing known of its room) waits', -1, 60, ['late']],
    ])('%s', (_case, before, quota, expected) => {
      const twoRules = { groupId: 'sg-1', region: 'us-east-1', items: [replacement, { ...replacement, cidr: '54.0.0.2/32' }] };
      const { early, late } = authorizeOrder({ authorize: [twoRules], capacity: before < 0 ? [] : [line(before, quota)] });
      expect([...early.map(() => 'early'), ...late.map(() => 'late')]).toEqual(expected);
    });

    it('takes the smaller quota of a group two targets share', () => {
      const batch = { groupId: 'sg-1', region: 'us-east-1', items: [replacement] };
      const { early } = authorizeOrder({ authorize: [batch], capacity: [line(50, 60), { ...line(50, 50), target: 'admin' }] });
      expect(early).toEqual([]);
    });
  });

  describe('a group AWS says does not exist', () => {
    const notFound = (groupId: string) => new SgsyncError('NOT_FOUND', `Security group ${groupId} does not exist in us-east-1.`, { details: { groupId, region: 'us-east-1' } });
    const into = (groupId: string): Plan => emptyPlan({ authorize: [{ groupId, region: 'us-east-1', items: [{ ...add, groupId }] }] });
    const groups = [{ region: 'us-east-1', groupIds: ['sg-1', 'sg-2'] }];

    function ec2Without(gone: string): Ec2Port & { sent: string[] } {
      const sent: string[] = [];
      return {
        sent,
        enabledRegions: () => Promise.resolve([]),
        listMembers: () => Promise.resolve([]),
        listRules: () => Promise.resolve([]),
        authorize: (batch: GroupBatch<PlannedRule>) => {
          sent.push(`authorize ${batch.groupId}`);
          return batch.groupId === gone ? Promise.reject(notFound(gone)) : Promise.resolve({ created: [], duplicate: false });
        },
        revoke: (batch: GroupBatch<PlannedRevoke>) => {
          sent.push(`revoke ${batch.groupId}`);
          return batch.groupId === gone ? Promise.reject(notFound(gone)) : Promise.resolve({ revoked: [], notFound: false });
        },
      };
    }

    it('is learned when an authorize there is refused, and the next plan places its rules in another group', async () => {
      const ec2 = ec2Without('sg-1');
      const learnedSeen: string[][] = [];
      const result = await runPass({
        ec2, groups, apply: true, ...time,
        makePlan: (_observed, learned) => {
          learnedSeen.push(learned.missing.map((m) => `${m.region} ${m.groupId}`));
          return learned.missing.some((m) => m.groupId === 'sg-1') ? into('sg-2') : into('sg-1');
        },
      });
      expect(ec2.sent).toEqual(['authorize sg-1', 'authorize sg-2']);
      expect(learnedSeen).toEqual([[], ['us-east-1 sg-1']]);
      expect(result).toMatchObject({ errors: [], converged: true, rounds: 2 });
    });

    it('is learned when a revoke there is refused (the group was deleted since the read), and the next look decides', async () => {
      const ec2 = ec2Without('sg-1');
      const plans = [emptyPlan({ revoke: [{ groupId: 'sg-1', region: 'us-east-1', items: [stale(1)] }] }), emptyPlan()];
      let planned = 0;
      const result = await runPass({ ec2, groups, apply: true, ...time, makePlan: () => plans[Math.min(planned++, 1)]! });
      expect(result).toMatchObject({ errors: [], converged: true, rounds: 2 });
    });

    it("is the pass's error when no round is left to place its rules elsewhere", async () => {
      const ec2 = ec2Without('sg-1');
      const result = await runPass({ ec2, groups, apply: true, maxRounds: 1, ...time, makePlan: () => into('sg-1') });
      expect(result.errors.map((e) => e.code)).toEqual(['NOT_FOUND']);
      expect(result.converged).toBe(false);
    });
  });
});
