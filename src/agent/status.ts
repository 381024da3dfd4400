import type { CapacityLine, ObservedRule } from '../core/model.js';
import { agentPass, ownRules, readSelf, tagsUnseen, targetsFor, type AgentDeps } from './agent-pass.js';
import { isEmptyPlan } from '../core/reconcile.js';
import { ruleTag, TAG } from '../core/ownership.js';

export interface AgentStatus {
  instanceId: string;
  region: string;
  publicIpv4?: string;
  privateIpv4?: string;
  ipv6: string[];
  /** Targets whose selector admits this instance. */
  targets: string[];
  /** `retired`: in a group its target retired (`retiredGroups`), to be replaced by a rule in the pool. */
  rules: (Pick<ObservedRule, 'ruleId' | 'groupId' | 'family' | 'protocol' | 'fromPort' | 'toPort' | 'cidr'> & { target?: string; retired?: true })[];
  capacity: CapacityLine[];
  /** A register would change something. */
  drift: boolean;
  /** Why this instance is not admitted everywhere it is selected, or may not be selected: one sentence each. */
  problems: string[];
}

/** This instance's rules per target, with the group each is in and the room left in each pool. Read-only. */
export async function agentStatus(deps: AgentDeps): Promise<AgentStatus> {
  const self = await readSelf(deps);
  const look = await agentPass(deps, self, { deregister: false, apply: false });
  const mine: AgentStatus['rules'] = [];
  for (const g of ownRules(look.observedRules, deps.config.config.deployment, self.instanceId)) {
    const target = ruleTag(g, TAG.target);
    const retired = deps.config.targets.some((t) => t.name === target && t.retiredGroupIds?.includes(g.groupId) === true);
    mine.push({ ruleId: g.ruleId, groupId: g.groupId, family: g.family, protocol: g.protocol, fromPort: g.fromPort, toPort: g.toPort, cidr: g.cidr, target, ...(retired ? { retired: true as const } : {}) });
  }
  const selected = targetsFor(self, deps.config.targets);
  const unseen = tagsUnseen(deps, self, selected);
  const problems = [
    ...look.plan.refused.filter((r) => r.instanceId === self.instanceId).map((r) => `target ${r.target}: ${r.detail}`),
    ...[...new Set(look.plan.blocked.filter((b) => b.instanceId === self.instanceId).map((b) => b.target))].map((t) => `target ${t}: no group in the pool has room`),
    ...(unseen ? [unseen] : []),
  ];
  return {
    instanceId: self.instanceId,
    region: self.region,
    publicIpv4: self.publicIpv4,
    privateIpv4: self.privateIpv4,
    ipv6: self.ipv6,
    targets: selected.map((t) => t.name),
    rules: mine,
    capacity: look.plan.capacity,
    drift: !isEmptyPlan(look.plan),
    problems,
  };
}
