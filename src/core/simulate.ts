/**
 * What a group would look like after a plan is applied, without AWS. The
 * dry run shows it, and the tests use it to prove that planning again after
 * applying finds nothing left to do.
 */
import type { ObservedRule, Plan } from './model.js';
import { commonTags } from './ownership.js';
import { identityKey } from './rule-key.js';

/**
 * Applies a plan to observed rules the way the applier does: revokes first,
 * then authorizes, each new rule getting an id from `nextId`. Like EC2, an
 * authorize that duplicates a rule already in the group adds nothing, and
 * the rules of one call (one batch) get the tags they all share, as the
 * applier's one TagSpecification gives them (`tags: 'per-rule'` gives each
 * rule its own, as one agent's call of one rule would).
 */
export function applyPlanToObserved(observed: ObservedRule[], plan: Plan, nextId: () => string, options: { tags?: 'per-call' | 'per-rule' } = {}): ObservedRule[] {
  const revoked = new Set(plan.revoke.flatMap((b) => b.items.map((r) => r.ruleId)));
  const result = observed.filter((r) => !revoked.has(r.ruleId));
  const present = new Set(result.map((r) => `${r.groupId}\u0000${identityKey(r, r.cidr)}`));
  for (const batch of plan.authorize) {
    const shared = options.tags === 'per-rule' ? undefined : commonTags(batch.items);
    for (const rule of batch.items) {
      const key = `${batch.groupId}\u0000${identityKey(rule.port, rule.cidr)}`;
      if (present.has(key)) continue;
      present.add(key);
      result.push({
        ruleId: nextId(),
        groupId: batch.groupId,
        family: rule.family,
        protocol: rule.port.protocol,
        fromPort: rule.port.fromPort,
        toPort: rule.port.toPort,
        cidr: rule.cidr,
        description: rule.description,
        tags: { ...(shared ?? rule.tags) },
      });
    }
  }
  return result;
}
