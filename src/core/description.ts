/**
 * Rule descriptions: readable in the console, and always inside the
 * character set EC2 accepts, so a strange tag value or target name can never
 * turn an authorize into an `InvalidParameterValue`.
 */
import type { DesiredRule } from './model.js';

/** EC2's limit on a rule description, in characters. */
export const DESCRIPTION_MAX_LENGTH = 255;

const ALLOWED = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]$/;
/** Text EC2 accepts as it is: allowed characters only (all ASCII, so code points are characters), short enough. */
const ACCEPTED = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]{0,255}$/;

/**
 * Replaces every character EC2 would refuse with `_` and cuts the result to
 * 255 characters. Works on code points, so an emoji becomes one `_`, not two.
 */
export function sanitizeDescription(text: string): string {
  // The usual case, and the one a fleet-wide pass makes a hundred thousand times.
  if (typeof text === 'string' && ACCEPTED.test(text)) return text;
  let out = '';
  let length = 0;
  for (const ch of String(text)) {
    if (length === DESCRIPTION_MAX_LENGTH) break;
    out += ALLOWED.test(ch) ? ch : '_';
    length++;
  }
  return out;
}

/** Whether EC2 would accept this text as a rule description as-is. */
export function isValidDescription(text: string): boolean {
  return sanitizeDescription(text) === text;
}

/**
 * The description of a managed rule, e.g.
 * `sgsync prod/api i-0abc123 eu-west-1`: enough for a person reading the
 * console to know who put it there and for whom. Ownership is decided by tags,
 * never by this text.
 */
export function ruleDescription(deployment: string, rule: Pick<DesiredRule, 'target' | 'instanceId' | 'memberRegion'>): string {
  return sanitizeDescription(`sgsync ${deployment}/${rule.target} ${rule.instanceId} ${rule.memberRegion}`);
}
