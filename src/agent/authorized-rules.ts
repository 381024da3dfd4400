import type { GroupBatch, PlannedRevoke } from '../core/model.js';
import type { Ec2Port } from '../core/ports.js';
import type { AppliedChange } from '../core/reconcile.js';
import { parseCidr } from '../core/addresses.js';
import { SgsyncError, isSgsyncError } from '../core/errors.js';

/**
 * The rules this process authorized and has not revoked, by id, with their
 * group and region. DescribeSecurityGroupRules is eventually consistent: a
 * rule authorized moments ago may not be listed yet, so a deregistration that
 * decides only from the listing can miss it. `watch` keeps these so that it
 * can revoke them by id as well when the instance goes.
 */
export class AuthorizedRules {
  private readonly byId = new Map<string, PlannedRevoke & { region: string }>();

  /** Notes a change as it lands: an authorized rule is kept, a revoked one forgotten. */
  note(change: AppliedChange): void {
    if (!change.ruleId) return;
    if (change.action === 'revoke') {
      this.byId.delete(change.ruleId);
      return;
    }
    const port = change.port ?? { protocol: '-1' as const, fromPort: -1, toPort: -1 };
    this.byId.set(change.ruleId, {
      ruleId: change.ruleId,
      groupId: change.groupId,
      region: change.region,
      target: change.target,
      family: (change.cidr === undefined ? undefined : parseCidr(change.cidr)?.family) ?? 'ipv4',
      cidr: change.cidr,
      port,
      instanceId: change.instanceId,
      memberRegion: change.memberRegion,
      reason: 'deregistered',
    });
  }

  forget(ruleId: string): void {
    this.byId.delete(ruleId);
  }

  get size(): number {
    return this.byId.size;
  }

  /** What is left, one batch per group, as a revoke takes it. */
  batches(): GroupBatch<PlannedRevoke>[] {
    const groups = new Map<string, GroupBatch<PlannedRevoke>>();
    for (const { region, ...rule } of this.byId.values()) {
      const batch = groups.get(rule.groupId) ?? { groupId: rule.groupId, region, items: [] };
      batch.items.push(rule);
      groups.set(rule.groupId, batch);
    }
    return [...groups.values()];
  }
}

/**
 * Revokes by id every rule in `rules`, group by group. A rule AWS no longer
 * has (a controller or a pass revoked it, `InvalidSecurityGroupRuleId.NotFound`)
 * is already gone: AWS refuses a batch whole over one such rule, so the batch
 * is then sent one rule at a time. Each revoked rule is passed to `onChange`.
 * An error for one group does not stop the others; the first is thrown at
 * the end.
 */
export async function revokeAuthorized(ec2: Ec2Port, rules: AuthorizedRules, onChange?: (change: AppliedChange) => void): Promise<void> {
  const failures: SgsyncError[] = [];
  const revoked = (batch: GroupBatch<PlannedRevoke>, ids: readonly string[]) => {
    for (const r of batch.items.filter((i) => ids.includes(i.ruleId))) {
      rules.forget(r.ruleId);
      onChange?.({ action: 'revoke', target: r.target, groupId: batch.groupId, region: batch.region, ruleId: r.ruleId, cidr: r.cidr, port: r.port, instanceId: r.instanceId, memberRegion: r.memberRegion, reason: r.reason });
    }
  };
  for (const batch of rules.batches()) {
    try {
      const out = await ec2.revoke(batch);
      if (!out.notFound) {
        revoked(batch, out.revoked);
        // In a default VPC AWS answers success and leaves out the rules it did not have: gone as well.
        for (const item of batch.items) rules.forget(item.ruleId);
        continue;
      }
      for (const item of batch.items) {
        const alone = { ...batch, items: [item] };
        const one = await ec2.revoke(alone);
        if (one.notFound) rules.forget(item.ruleId);
        else revoked(alone, one.revoked);
      }
    } catch (e) {
      failures.push(isSgsyncError(e) ? e : new SgsyncError('INTERNAL', String(e), { cause: e }));
    }
  }
  if (failures[0]) throw failures[0];
}
