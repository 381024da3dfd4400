import { describe, expect, it } from 'vitest';
import { API_GROUP, DB_GROUP, FakeEc2 } from '../../test/support/agent-fakes.js';
import { SgsyncError } from '../core/errors.js';
import type { AppliedChange } from '../core/reconcile.js';
import { AuthorizedRules, revokeAuthorized } from './authorized-rules.js';

const port = { protocol: 'tcp' as const, fromPort: 443, toPort: 443 };

/** A rule in the fake EC2, and the change that authorized it. */
function authorized(ec2: FakeEc2, groupId: string, cidr: string): AppliedChange {
  const ruleId = `sgr-${String(ec2.rules.size + 1).padStart(17, '0')}`;
  ec2.rules.set(ruleId, { ruleId, groupId, family: cidr.includes(':') ? 'ipv6' : 'ipv4', protocol: 'tcp', fromPort: 443, toPort: 443, cidr, tags: {} });
  return { action: 'authorize', target: 'api', groupId, region: 'us-east-1', ruleId, cidr, port, instanceId: 'i-0123456789abcdef0', memberRegion: 'eu-west-1', reason: 'member' };
}

describe('the rules a watch authorized', () => {
  it('keeps authorized rules and forgets revoked ones, one batch per group', () => {
    const ec2 = new FakeEc2();
    const rules = new AuthorizedRules();
    const a = authorized(ec2, API_GROUP, '52.95.0.1/32');
    const b = authorized(ec2, API_GROUP, '2600:1f18::5/128');
    const c = authorized(ec2, DB_GROUP, '10.0.0.5/32');
    for (const change of [a, b, c]) rules.note(change);
    rules.note({ ...c, action: 'revoke', reason: 'address-changed' });
    rules.note({ ...a, ruleId: undefined });
    expect(rules.batches()).toEqual([
      {
        groupId: API_GROUP,
        region: 'us-east-1',
        items: [
          expect.objectContaining({ ruleId: a.ruleId, family: 'ipv4', port, reason: 'deregistered' }),
          expect.objectContaining({ ruleId: b.ruleId, family: 'ipv6', cidr: '2600:1f18::5/128' }),
        ],
      },
    ]);
  });

  it('revokes them by id, takes the ones AWS no longer has as gone, and reports each it revoked', async () => {
    const ec2 = new FakeEc2();
    const rules = new AuthorizedRules();
    const a = authorized(ec2, API_GROUP, '52.95.0.1/32');
    const b = authorized(ec2, API_GROUP, '52.95.0.2/32');
    const c = authorized(ec2, DB_GROUP, '10.0.0.5/32');
    for (const change of [a, b, c]) rules.note(change);
    ec2.rules.delete(a.ruleId!);
    const reported: AppliedChange[] = [];
    await revokeAuthorized(ec2, rules, (change) => reported.push(change));
    expect(ec2.rules.size).toBe(0);
    expect(rules.size).toBe(0);
    expect(reported.map((r) => [r.action, r.ruleId, r.groupId, r.reason])).toEqual([
      ['revoke', b.ruleId, API_GROUP, 'deregistered'],
      ['revoke', c.ruleId, DB_GROUP, 'deregistered'],
    ]);
  });

  it('goes on with the other groups when one fails, then throws its error', async () => {
    const ec2 = new FakeEc2();
    const rules = new AuthorizedRules();
    const a = authorized(ec2, API_GROUP, '52.95.0.1/32');
    const c = authorized(ec2, DB_GROUP, '10.0.0.5/32');
    for (const change of [a, c]) rules.note(change);
    const revoke = ec2.revoke.bind(ec2);
    ec2.revoke = (batch) => (batch.groupId === API_GROUP ? Promise.reject(new SgsyncError('PERMISSION_DENIED', 'AWS denied ec2:RevokeSecurityGroupIngress')) : revoke(batch));
    await expect(revokeAuthorized(ec2, rules)).rejects.toThrow('AWS denied ec2:RevokeSecurityGroupIngress');
    expect([...ec2.rules.keys()]).toEqual([a.ruleId]);
    expect(rules.size).toBe(1);
  });
});
