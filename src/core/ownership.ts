/**
 * Ownership: a rule is sgsync's because of its tags, and for no other reason
 * (safety rule 1). CIDRs and descriptions are never evidence of ownership:
 * people copy them.
 */
import type { DesiredRule, ObservedRule } from './model.js';

export const TAG = {
  managedBy: 'sgsync:managed-by',
  target: 'sgsync:target',
  instance: 'sgsync:instance',
  region: 'sgsync:region',
  registeredAt: 'sgsync:registered-at',
} as const;

/** The tags a new managed rule carries: who owns it, for which target and member, and since when. */
export function ownershipTags(deployment: string, rule: Pick<DesiredRule, 'target' | 'instanceId' | 'memberRegion'>, nowIso: string): Record<string, string> {
  return {
    [TAG.managedBy]: deployment,
    [TAG.target]: rule.target,
    [TAG.instance]: rule.instanceId,
    [TAG.region]: rule.memberRegion,
    [TAG.registeredAt]: nowIso,
  };
}

function tagsOf(rule: Pick<ObservedRule, 'tags'>): Record<string, string> {
  return rule.tags !== null && typeof rule.tags === 'object' ? rule.tags : {};
}

/** Reads one tag of a rule, tolerating rules with no tags at all. */
export function ruleTag(rule: Pick<ObservedRule, 'tags'>, key: string): string | undefined {
  const value = tagsOf(rule)[key];
  return typeof value === 'string' ? value : undefined;
}

/** True only when `sgsync:managed-by` equals this deployment exactly. */
export function isManagedBy(rule: Pick<ObservedRule, 'tags'>, deployment: string): boolean {
  return ruleTag(rule, TAG.managedBy) === deployment;
}

/**
 * When the rule was registered, in epoch milliseconds; undefined when the tag
 * is missing or garbled. Callers treat undefined as "old": a rule that cannot
 * prove its youth gets no grace.
 */
export function registeredAtMs(rule: Pick<ObservedRule, 'tags'>): number | undefined {
  const text = ruleTag(rule, TAG.registeredAt);
  if (text === undefined || !/^\d{4}-\d{2}-\d{2}T/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}
