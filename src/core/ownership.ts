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

const DESCRIBED = /^sgsync \S+\/\S+ (i-[0-9a-f]{8,17}) ([a-z]{2}(?:-[a-z]+)+-\d+)$/;

/**
 * Whose rule this is: the member's instance id and region. AWS applies one
 * TagSpecification to every rule an authorize call creates, so a controller
 * that admits many members in one call can only put the shared tags there;
 * each range's description (`sgsync prod/api i-0abc eu-west-1`) carries the
 * per-member facts. Tags win when present. Call this only for rules already
 * known to be managed (by tag): the description never decides ownership.
 */
export function ruleMember(rule: Pick<ObservedRule, 'tags' | 'description'>): { instanceId?: string; memberRegion?: string } {
  const instanceId = ruleTag(rule, TAG.instance);
  const memberRegion = ruleTag(rule, TAG.region);
  if (instanceId !== undefined && memberRegion !== undefined) return { instanceId, memberRegion };
  const m = DESCRIBED.exec(typeof rule.description === 'string' ? rule.description : '');
  if (!m) return { instanceId, memberRegion };
  return { instanceId: instanceId ?? m[1], memberRegion: memberRegion ?? m[2] };
}
