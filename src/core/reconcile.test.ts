import { describe, expect, it } from 'vitest';
import type { Plan, PlannedRevoke, PlannedRule } from './model.js';
import type { Ec2Port } from './ports.js';
import { runPass } from './reconcile.js';

const port = { protocol: 'tcp' as const, fromPort: 443, toPort: 443 };

function emptyPlan(over: Partial<Plan> = {}): Plan {
  return { deployment: 'prod', scope: { kind: 'all' }, at: '2025-06-01T12:00:00.000Z', authorize: [], revoke: [], blocked: [], refused: [], kept: [], foreign: [], capacity: [], warnings: [], ...over };
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
    const result = await runPass({ ec2, groups: [{ region: 'us-east-1', groupIds: ['sg-1'] }], apply: true, sleep: () => Promise.resolve(), makePlan: () => plans[Math.min(planned++, plans.length - 1)]! });
    expect(planned).toBe(2);
    expect(revoked).toEqual([]);
    expect(result.changes.filter((c) => c.action === 'revoke')).toEqual([]);
    expect(result.plan.halted).toEqual(halted);
    expect(result.lastPlan.kept.map((k) => `${k.ruleId}:${k.reason}`)).toEqual(['sgr-1:blast-radius', 'sgr-2:blast-radius', 'sgr-3:blast-radius', 'sgr-4:blast-radius']);
  });
});
