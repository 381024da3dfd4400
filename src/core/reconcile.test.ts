import { describe, expect, it } from 'vitest';
import { SgsyncError } from './errors.js';
import type { GroupBatch, Plan, PlannedRevoke, PlannedRule } from './model.js';
import type { Ec2Port } from './ports.js';
import { authorizeOrder, holdIfHalted, lagWarnings, revokeOrder, runPass, type PassTime } from './reconcile.js';

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

  describe('what AWS answers', () => {
    const items = [1, 2, 3].map((n): PlannedRule => ({ ...add, instanceId: `i-${n}`, cidr: `54.0.0.${n}/32` }));
    const plan = emptyPlan({ authorize: [{ groupId: 'sg-1', region: 'us-east-1', items }], revoke: [{ groupId: 'sg-1', region: 'us-east-1', items: [4, 5, 6].map(stale) }] });
    /** An EC2 whose reads lag: it refuses any call holding 54.0.0.2/32 (it exists) or sgr-5 (it is gone) whole, and takes the rest. */
    const lagging = (calls: string[]): Ec2Port => ({
      enabledRegions: () => Promise.resolve(['eu-west-1']),
      listMembers: () => Promise.resolve([]),
      listRules: () => Promise.resolve([]),
      authorize: (batch) => {
        calls.push(`authorize ${batch.items.map((r) => r.instanceId).join(',')}`);
        const duplicate = batch.items.some((r) => r.cidr === '54.0.0.2/32');
        return Promise.resolve({ created: duplicate ? [] : batch.items.map((r) => ({ ruleId: `sgr-new-${r.instanceId}`, cidr: r.cidr, protocol: 'tcp', fromPort: 443, toPort: 443 })), duplicate });
      },
      revoke: (batch) => {
        calls.push(`revoke ${batch.items.map((r) => r.ruleId).join(',')}`);
        const notFound = batch.items.some((r) => r.ruleId === 'sgr-5');
        // AWS names only what it revoked: sgr-6 went, but a second writer had taken sgr-4 already.
        return Promise.resolve({ revoked: notFound ? [] : batch.items.map((r) => r.ruleId).filter((id) => id !== 'sgr-4'), notFound });
      },
    });

    it('in the last round, halves a batch refused whole until the rule AWS refuses stands alone, and lands the rest', async () => {
      const calls: string[] = [];
      const result = await runPass({ ec2: lagging(calls), groups: [{ region: 'us-east-1', groupIds: ['sg-1'] }], apply: true, maxRounds: 1, ...time, makePlan: () => plan });
      expect(result.rounds).toBe(1);
      expect(result.changes.map((c) => `${c.action} ${c.ruleId}`)).toEqual(['revoke sgr-6', 'authorize sgr-new-i-1', 'authorize sgr-new-i-3']);
      expect(result.alreadyThere.map((r) => r.instanceId)).toEqual(['i-2']);
      expect(result.alreadyGone.map((r) => r.ruleId)).toEqual(['sgr-5']);
      expect(lagWarnings(result)).toEqual([
        "1 rule(s) AWS says exist were not listed yet (EC2's reads lag its writes), so they were not added again: 54.0.0.2/32 for i-2 in sg-1",
        "1 rule(s) AWS says are gone were still listed (EC2's reads lag its writes), so there was nothing to revoke: sgr-5 in sg-1",
      ]);
      expect(result.converged).toBe(true);
    });

    it('looks again, rather than halving, while rounds are left, and records nothing AWS refused', async () => {
      const calls: string[] = [];
      let planned = 0;
      const result = await runPass({ ec2: lagging(calls), groups: [{ region: 'us-east-1', groupIds: ['sg-1'] }], apply: true, maxRounds: 2, ...time, makePlan: () => (planned++ === 0 ? plan : emptyPlan()) });
      // With no room known, the revokes go first (see authorizeOrder).
      expect(calls).toEqual(['revoke sgr-4,sgr-5,sgr-6', 'authorize i-1,i-2,i-3']);
      expect(result).toMatchObject({ rounds: 2, converged: true, changes: [], alreadyThere: [], alreadyGone: [] });
    });

    it('revokes in a later round of a pass that was not halted', async () => {
      const calls: string[] = [];
      const plans = [emptyPlan({ authorize: [{ groupId: 'sg-1', region: 'us-east-1', items: [items[1]!] }] }), emptyPlan({ revoke: [{ groupId: 'sg-1', region: 'us-east-1', items: [stale(6)] }] }), emptyPlan()];
      let planned = 0;
      const result = await runPass({ ec2: lagging(calls), groups: [{ region: 'us-east-1', groupIds: ['sg-1'] }], apply: true, ...time, makePlan: () => plans[Math.min(planned++, 2)]! });
      expect(result.changes.map((c) => `${c.action} ${c.ruleId}`)).toEqual(['revoke sgr-6']);
      expect(result.converged).toBe(true);
    });

    it('learns a group AWS refuses a rule in as full, and makes that refusal the pass\'s error when the members stay blocked', async () => {
      const full = new SgsyncError('CAPACITY_EXHAUSTED', 'The maximum number of rules per security group has been reached.', { details: { groupId: 'sg-1' } });
      const ec2: Ec2Port = { ...lagging([]), authorize: () => Promise.reject(full) };
      const learnedSeen: string[][] = [];
      const blocked = emptyPlan({ blocked: [{ target: 'api', instanceId: 'i-1', memberRegion: 'eu-west-1', family: 'ipv4', port, cidr: '54.0.0.1/32', reason: 'capacity' }] });
      const result = await runPass({
        ec2, groups: [{ region: 'us-east-1', groupIds: ['sg-1'] }], apply: true, ...time,
        makePlan: (_observed, learned) => {
          learnedSeen.push(learned.full.map((f) => `${f.groupId} ${f.family}`));
          return learned.full.length === 0 ? emptyPlan({ authorize: [{ groupId: 'sg-1', region: 'us-east-1', items: [items[0]!, { ...items[1]!, family: 'ipv6', cidr: '2600::2/128' }] }] }) : blocked;
        },
      });
      expect(learnedSeen).toEqual([[], ['sg-1 ipv4', 'sg-1 ipv6']]);
      expect(result).toMatchObject({ rounds: 2, converged: false, errors: [full] });
      // When the next plan places everyone elsewhere in the pool, the refusal is history.
      let planned = 0;
      const elsewhere = await runPass({ ec2, groups: [], apply: true, ...time, makePlan: () => (planned++ === 0 ? emptyPlan({ authorize: [{ groupId: 'sg-1', region: 'us-east-1', items: [items[0]!] }] }) : emptyPlan()) });
      expect(elsewhere).toMatchObject({ rounds: 2, converged: true, errors: [] });
    });

    it('takes a refusal no other look can cure as the pass\'s error at once, without looking again', async () => {
      const denied = new SgsyncError('PERMISSION_DENIED', 'You are not authorized to perform this operation.');
      const ec2: Ec2Port = { ...lagging([]), authorize: () => Promise.reject(denied) };
      let planned = 0;
      const result = await runPass({ ec2, groups: [], apply: true, ...time, makePlan: () => (planned++, emptyPlan({ authorize: [{ groupId: 'sg-1', region: 'us-east-1', items }] })) });
      expect([planned, result.converged, result.errors]).toEqual([1, false, [denied]]);
    });

    it('makes an error that is no SgsyncError an INTERNAL one of the pass, without looking again', async () => {
      const boom = new TypeError('socket hang up');
      const ec2: Ec2Port = { ...lagging([]), authorize: () => Promise.reject(boom) };
      let planned = 0;
      const result = await runPass({ ec2, groups: [], apply: true, ...time, makePlan: () => (planned++, emptyPlan({ authorize: [{ groupId: 'sg-1', region: 'us-east-1', items }] })) });
      expect(planned).toBe(1);
      expect(result.converged).toBe(false);
      expect(result.errors.map((e) => [e.code, e.message, e.cause])).toEqual([['INTERNAL', 'TypeError: socket hang up', boom]]);
    });
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

    it('judges each group and family by its own room: a batch goes first only when every family of it fits', () => {
      const roomy = { ...line(0, 60), groupId: 'sg-2' };
      const dual = { groupId: 'sg-1', region: 'us-east-1', items: [replacement, { ...replacement, family: 'ipv6' as const, cidr: '2600::1/128' }] };
      const elsewhere = { groupId: 'sg-2', region: 'us-east-1', items: [replacement, { ...replacement, cidr: '54.0.0.2/32' }] };
      // sg-1 has room for one more IPv4 rule and no IPv6 line (no room known); sg-2 has room for sixty.
      const { early, late } = authorizeOrder({ authorize: [dual, elsewhere], capacity: [line(59, 60), roomy] });
      expect([early.map((b) => b.groupId), late.map((b) => b.groupId)]).toEqual([['sg-2'], ['sg-1']]);
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

    /** A pass whose first plan revokes a rule in sg-1 and whose next has nothing to do; what each plan was told is missing. */
    async function revokeInSg1ThenNothing(ec2: Ec2Port) {
      const plans = [emptyPlan({ revoke: [{ groupId: 'sg-1', region: 'us-east-1', items: [stale(1)] }] }), emptyPlan()];
      const learnedSeen: string[][] = [];
      const result = await runPass({
        ec2, groups, apply: true, ...time,
        makePlan: (_observed, learned) => {
          learnedSeen.push(learned.missing.map((m) => `${m.region} ${m.groupId}`));
          return plans[Math.min(learnedSeen.length - 1, 1)]!;
        },
      });
      return { learnedSeen, result };
    }

    it('is learned when a revoke there is refused (the group was deleted since the read), and the next look decides', async () => {
      const ec2 = ec2Without('sg-1');
      const { learnedSeen, result } = await revokeInSg1ThenNothing(ec2);
      expect(ec2.sent).toEqual(['revoke sg-1']);
      expect(learnedSeen).toEqual([[], ['us-east-1 sg-1']]);
      // Nothing was revoked: the report counts no revoke, and the rule is not taken for one AWS says is gone.
      expect(result).toMatchObject({ errors: [], converged: true, rounds: 2, changes: [], alreadyGone: [] });
    });

    it('is not learned from a revoke refused for another reason', async () => {
      const ec2 = ec2Without('sg-9');
      const throttled = new SgsyncError('THROTTLED', 'Request limit exceeded.', { retryable: true, details: { groupId: 'sg-1', region: 'us-east-1' } });
      ec2.revoke = () => Promise.reject(throttled);
      const { learnedSeen, result } = await revokeInSg1ThenNothing(ec2);
      expect(learnedSeen).toEqual([[], []]);
      expect(result).toMatchObject({ errors: [], converged: true, rounds: 2, changes: [] });
    });

    it("is the pass's error when no round is left to place its rules elsewhere", async () => {
      const ec2 = ec2Without('sg-1');
      const result = await runPass({ ec2, groups, apply: true, maxRounds: 1, ...time, makePlan: () => into('sg-1') });
      expect(result.errors.map((e) => e.code)).toEqual(['NOT_FOUND']);
      expect(result.converged).toBe(false);
    });
  });
  describe('told to stop (a time limit near, a stop signal)', () => {
    const region = 'us-east-1';
    const STOP = 'the time limit is near';
    const created = (batch: GroupBatch<PlannedRule>) => batch.items.map((r, i) => ({ ruleId: `sgr-new${i}`, cidr: r.cidr, protocol: 'tcp', fromPort: r.port.fromPort ?? -1, toPort: r.port.toPort ?? -1 }));
    /**
     * An EC2 that logs each authorize and revoke as it starts and answers a moment later (so the call is in flight
     * meanwhile), and a `shouldStop` that gives its reason from the moment a call `stopAt` picks has started.
     */
    function stopping(stopAt: (call: string) => boolean, duplicate = false): { ec2: Ec2Port; shouldStop: () => string | undefined; log: string[] } {
      const log: string[] = [];
      let stopped = false;
      const start = (call: string) => {
        log.push(call);
        if (!stopped && stopAt(call)) {
          stopped = true;
          log.push('stop');
        }
        return new Promise((r) => setTimeout(r, 5));
      };
      const ec2: Ec2Port = {
        enabledRegions: () => Promise.resolve([]),
        listMembers: () => Promise.resolve([]),
        listRules: () => Promise.resolve([]),
        authorize: async (batch) => {
          const call = `authorize ${batch.groupId} ${batch.items.map((r) => r.instanceId).join(',')}`;
          await start(call);
          log.push(`answered ${call}`);
          return { created: duplicate ? [] : created(batch), duplicate };
        },
        revoke: async (batch) => {
          const call = `revoke ${batch.groupId} ${batch.items.map((r) => r.ruleId).join(',')}`;
          await start(call);
          log.push(`answered ${call}`);
          return { revoked: batch.items.map((r) => r.ruleId), notFound: false };
        },
      };
      return { ec2, shouldStop: () => (stopped ? STOP : undefined), log };
    }
    const revokes = (groups: string[]) => emptyPlan({ revoke: groups.map((groupId, i) => ({ groupId, region, items: [{ ...stale(i + 1), groupId }] })) });
    const groups = [{ region, groupIds: ['sg-1', 'sg-2', 'sg-3', 'sg-9'] }];

    it('starts no authorize or revoke call after the stop, and says why it stopped', async () => {
      const { ec2, shouldStop, log } = stopping((call) => call.startsWith('revoke sg-1'));
      const result = await runPass({ ...time, ec2, groups, apply: true, concurrency: 1, shouldStop, makePlan: () => revokes(['sg-1', 'sg-2', 'sg-3']) });
      expect(log).toEqual(['revoke sg-1 sgr-1', 'stop', 'answered revoke sg-1 sgr-1']);
      expect(result).toMatchObject({ stopped: STOP, converged: false, rounds: 1, errors: [] });
      expect(result.changes.map((c) => c.ruleId)).toEqual(['sgr-1']);
      // What was left is the last plan's: the next pass finds it again.
      expect(result.lastPlan.revoke.map((b) => b.groupId)).toEqual(['sg-1', 'sg-2', 'sg-3']);
    });

    it('lets the calls in flight when it comes finish, and records and reports each as usual', async () => {
      // Two calls at a time: the stop comes while both are in flight; the third is never sent.
      const { ec2, shouldStop, log } = stopping((call) => call.startsWith('revoke sg-2'));
      const reported: string[] = [];
      const result = await runPass({ ...time, ec2, groups, apply: true, concurrency: 2, shouldStop, onChange: (c) => reported.push(c.ruleId ?? '?'), makePlan: () => revokes(['sg-1', 'sg-2', 'sg-3']) });
      expect(log).toEqual(['revoke sg-1 sgr-1', 'revoke sg-2 sgr-2', 'stop', 'answered revoke sg-1 sgr-1', 'answered revoke sg-2 sgr-2']);
      expect(reported).toEqual(['sgr-1', 'sgr-2']);
      expect(result.changes.map((c) => `${c.action} ${c.ruleId}`)).toEqual(['revoke sgr-1', 'revoke sgr-2']);
      expect(result.stopped).toBe(STOP);
    });

    it('starts no first round when told to stop before it', async () => {
      const { ec2, log } = stopping(() => false);
      const result = await runPass({ ...time, ec2, groups, apply: true, shouldStop: () => STOP, makePlan: () => revokes(['sg-1']) });
      expect(log).toEqual([]);
      expect(result).toMatchObject({ stopped: STOP, converged: false, changes: [] });
    });

    it('is not cut short by a stop that leaves nothing undone', async () => {
      const { ec2 } = stopping(() => false);
      const result = await runPass({ ...time, ec2, groups, apply: true, shouldStop: () => STOP, makePlan: () => emptyPlan() });
      expect(result).toMatchObject({ converged: true });
      expect(result.stopped).toBeUndefined();
    });

    it.each([
      ['before the wait between rounds', 'answered authorize'],
      ['during the wait between rounds', 'wait'],
    ])('starts no further round when told to stop %s', async (_when, at) => {
      // AWS answers Duplicate: someone else added the rule, which calls for another look.
      const { ec2, log } = stopping(() => false, true);
      let stop: string | undefined;
      let looks = 0;
      const result = await runPass({
        ...time,
        ec2: { ...ec2, listRules: () => (looks++, Promise.resolve([])) },
        groups,
        apply: true,
        sleep: () => {
          log.push('wait');
          return Promise.resolve();
        },
        shouldStop: () => (stop ??= log.some((l) => l.startsWith(at)) ? STOP : undefined),
        makePlan: () => emptyPlan({ authorize: [{ groupId: 'sg-1', region, items: [add] }] }),
      });
      expect(looks).toBe(1);
      expect(log.filter((l) => !l.startsWith('answered'))).toEqual(at === 'wait' ? ['authorize sg-1 i-9', 'wait'] : ['authorize sg-1 i-9']);
      expect(result).toMatchObject({ stopped: STOP, converged: false, rounds: 1 });
    });

    describe('keeps make-before-break', () => {
      // i-1's rule is replaced (its port range changed): the new rule in sg-1, the old one revoked.
      const renewed: PlannedRule = { ...add, instanceId: 'i-1', cidr: '54.0.0.1/32', port: { protocol: 'tcp', fromPort: 443, toPort: 444 } };
      const line = (groupId: string, before: number) => ({ target: 'api', groupId, family: 'ipv4' as const, quota: 60, before, after: before, managed: before, foreign: 0 });
      const replaced = (groupId: string): PlannedRevoke => ({ ...stale(1), groupId, reason: groupId === 'sg-9' ? 'group-retired' : 'port-removed' });

      it('revokes no old rule once the stop came while its new rule was in flight, though that one landed', async () => {
        const { ec2, shouldStop, log } = stopping((call) => call.startsWith('authorize'));
        const plan = emptyPlan({ authorize: [{ groupId: 'sg-1', region, items: [renewed] }], revoke: [{ groupId: 'sg-1', region, items: [replaced('sg-1'), stale(2)] }], capacity: [line('sg-1', 10)] });
        const result = await runPass({ ...time, ec2, groups, apply: true, shouldStop, makePlan: () => plan });
        expect(log).toEqual(['authorize sg-1 i-1', 'stop', 'answered authorize sg-1 i-1']);
        expect(result.changes.map((c) => `${c.action} ${c.instanceId}`)).toEqual(['authorize i-1']);
        expect(result.stopped).toBe(STOP);
      });

      it('leaves the old rule of a member whose new rule waited for room, when the stop came while that room was being made', async () => {
        // sg-1 is full until i-2's stale rule goes; i-1's old rule is in sg-9, a retired group: it goes after its new rule.
        const { ec2, shouldStop, log } = stopping((call) => call.startsWith('revoke sg-1'));
        const plan = emptyPlan({
          authorize: [{ groupId: 'sg-1', region, items: [{ ...renewed, port }] }],
          revoke: [{ groupId: 'sg-1', region, items: [stale(2)] }, { groupId: 'sg-9', region, items: [replaced('sg-9')] }],
          capacity: [line('sg-1', 60)],
        });
        const result = await runPass({ ...time, ec2, groups, apply: true, shouldStop, makePlan: () => plan });
        expect(log).toEqual(['revoke sg-1 sgr-2', 'stop', 'answered revoke sg-1 sgr-2']);
        expect(result.changes.map((c) => `${c.action} ${c.ruleId}`)).toEqual(['revoke sgr-2']);
      });

      it('still sends the new rule of a member whose old rule went first to make room for it, and nothing else', async () => {
        // sg-1 is full: i-1's old rule there goes first, its room taken by the new one; i-9 is a newcomer in the same batch.
        const { ec2, shouldStop, log } = stopping((call) => call.startsWith('revoke sg-1'));
        const plan = emptyPlan({
          authorize: [{ groupId: 'sg-1', region, items: [renewed, add] }],
          revoke: [{ groupId: 'sg-1', region, items: [replaced('sg-1')] }, { groupId: 'sg-2', region, items: [{ ...stale(2), groupId: 'sg-2' }] }],
          capacity: [line('sg-1', 60)],
        });
        const result = await runPass({ ...time, ec2, groups, apply: true, concurrency: 1, shouldStop, makePlan: () => plan });
        expect(log).toEqual(['revoke sg-1 sgr-1', 'stop', 'answered revoke sg-1 sgr-1', 'authorize sg-1 i-1', 'answered authorize sg-1 i-1']);
        expect(result.changes.map((c) => `${c.action} ${c.instanceId}`)).toEqual(['revoke i-1', 'authorize i-1']);
        expect(result).toMatchObject({ stopped: STOP, converged: false });
      });
    });
  });
});
