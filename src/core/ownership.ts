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
  // The keys of TAG, written out: a literal with fixed keys is built far faster
  // than one with computed keys, and a cold pass builds one per new rule.
  return {
    'sgsync:managed-by': deployment,
    'sgsync:target': rule.target,
    'sgsync:instance': rule.instanceId,
    'sgsync:region': rule.memberRegion,
    'sgsync:registered-at': nowIso,
  } satisfies Record<(typeof TAG)[keyof typeof TAG], string>;
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

/** JavaScript's `\s`: a description token may contain none of these. */
function isSpace(c: number): boolean {
  return (
    c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

const isLower = (c: number) => c >= 97 && c <= 122;
const isDigit = (c: number) => c >= 48 && c <= 57;

/** `deployment/target`: no whitespace, and a '/' with something on either side (`\S+\/\S+`). */
function isOwnerToken(text: string, from: number, to: number): boolean {
  let slash = false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if ((c <= 32 || c >= 127) && isSpace(c)) return false;
    if (c === 47 && i > from && i < to - 1) slash = true;
  }
  return slash;
}

/** An instance id: `i-` and 8 to 17 lower-case hex digits. */
function isInstanceToken(text: string, from: number, to: number): boolean {
  if (to - from < 10 || to - from > 19 || text.charCodeAt(from) !== 105 || text.charCodeAt(from + 1) !== 45) return false;
  for (let i = from + 2; i < to; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c) && !(c >= 97 && c <= 102)) return false;
  }
  return true;
}

/** A region name: two letters, one or more `-letters`, then `-digits` (`eu-west-1`, `us-gov-west-1`). */
function isRegionToken(text: string, from: number, to: number): boolean {
  if (to - from < 2 || !isLower(text.charCodeAt(from)) || !isLower(text.charCodeAt(from + 1))) return false;
  let words = 0;
  let i = from + 2;
  while (i < to) {
    if (text.charCodeAt(i) !== 45) return false;
    const start = ++i;
    if (i < to && isDigit(text.charCodeAt(i))) {
      while (i < to && isDigit(text.charCodeAt(i))) i++;
      return i === to && words > 0;
    }
    while (i < to && isLower(text.charCodeAt(i))) i++;
    if (i === start) return false;
    words++;
  }
  return false;
}

const PREFIX = 'sgsync ';

/**
 * Where the instance id starts in a managed rule's description
 * (`sgsync prod/api i-0abc123 eu-west-1`), or -1 when the description is not
 * one. Read token by token rather than with a regular expression, and without
 * cutting strings: a fleet-wide pass reads a hundred thousand of them.
 */
function describedAt(description: string): number {
  if (!description.startsWith(PREFIX)) return -1;
  const first = description.indexOf(' ', PREFIX.length);
  const second = first < 0 ? -1 : description.indexOf(' ', first + 1);
  if (second < 0) return -1;
  const valid =
    isOwnerToken(description, PREFIX.length, first) && isInstanceToken(description, first + 1, second) && isRegionToken(description, second + 1, description.length);
  return valid ? first + 1 : -1;
}

function descriptionOf(rule: Pick<ObservedRule, 'description'>): string {
  return typeof rule.description === 'string' ? rule.description : '';
}

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
  const description = descriptionOf(rule);
  const at = describedAt(description);
  if (at < 0) return { instanceId, memberRegion };
  const end = description.indexOf(' ', at);
  return { instanceId: instanceId ?? description.slice(at, end), memberRegion: memberRegion ?? description.slice(end + 1) };
}

/** Where a text names something: `text.slice(start, end)`, without the copy. */
export interface TextSpan {
  text: string;
  start: number;
  end: number;
}

/**
 * Points `span` at the instance id `ruleMember` would read (the tag, or its
 * place in the description) and returns true; false when there is none. A
 * fleet-wide pass reads one per rule, so it copies nothing.
 */
export function ruleInstanceSpan(rule: Pick<ObservedRule, 'tags' | 'description'>, span: TextSpan): boolean {
  const tagged = ruleTag(rule, TAG.instance);
  if (tagged !== undefined) {
    span.text = tagged;
    span.start = 0;
    span.end = tagged.length;
    return true;
  }
  const description = descriptionOf(rule);
  const at = describedAt(description);
  if (at < 0) return false;
  span.text = description;
  span.start = at;
  span.end = description.indexOf(' ', at);
  return true;
}

/**
 * The tags every rule of a batch shares. AWS applies one TagSpecification to
 * all rules of a call, so only tags with the same value on every rule can go
 * there; per-rule facts live in each range's description. Batches never mix
 * targets (see the planner), so the target tag is always among them.
 */
export function commonTags(items: readonly { tags: Record<string, string> }[]): Record<string, string> {
  const [first, ...rest] = items;
  if (!first) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first.tags)) if (rest.every((r) => r.tags[k] === v)) out[k] = v;
  return out;
}
