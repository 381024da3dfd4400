/**
 * An in-memory EC2 whose every free-text field is hostile: markup, attribute
 * breakers, script URLs, control and bidi characters. What the dashboard and
 * the never-widen suites feed sgsync.
 */
import { SgsyncError } from '../../src/core/errors.js';
import type { GroupBatch, Member, ObservedRule, PlannedRevoke, PlannedRule } from '../../src/core/model.js';
import type { AuthorizeOutcome, Ec2Port, RevokeOutcome } from '../../src/core/ports.js';

/** Payloads that would run script or break out of an attribute if written unescaped. */
export const PAYLOADS = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(2)>',
  "'><svg onload=alert(3)>",
  'javascript:alert(4)',
  '</textarea></title><iframe srcdoc="<script>alert(5)</script>">',
  '{{constructor.constructor("alert(6)")()}}',
  '\u202e<b>gnp.exe</b>\u0007\u0000',
];
export const HOSTILE = PAYLOADS.join(' ');

/** Every call an Ec2Port received that would change a group. */
export interface Captured {
  authorize: GroupBatch<PlannedRule>[];
  revoke: GroupBatch<PlannedRevoke>[];
}

/** An Ec2Port over fixed members and rules that records every change it is asked for, and applies none. */
export function capturingEc2(world: { members: Record<string, Member[] | Error>; rules: ObservedRule[] }): Ec2Port & { captured: Captured } {
  const captured: Captured = { authorize: [], revoke: [] };
  return {
    captured,
    enabledRegions: () => Promise.resolve(Object.keys(world.members)),
    listMembers: (region) => {
      const m = world.members[region];
      return m instanceof Error ? Promise.reject(m) : Promise.resolve(structuredClone(m ?? []));
    },
    listRules: (_region, groupIds) => Promise.resolve(structuredClone(world.rules.filter((r) => groupIds.includes(r.groupId)))),
    authorize: (batch): Promise<AuthorizeOutcome> => {
      captured.authorize.push(structuredClone(batch));
      return Promise.resolve({ created: batch.items.map((r, i) => ({ ruleId: `sgr-new${i}`, cidr: r.cidr, protocol: r.port.protocol, fromPort: r.port.fromPort, toPort: r.port.toPort })), duplicate: false });
    },
    revoke: (batch): Promise<RevokeOutcome> => {
      captured.revoke.push(structuredClone(batch));
      return Promise.resolve({ revoked: batch.items.map((r) => r.ruleId), notFound: false });
    },
  };
}

/** An inventory failure whose message is itself hostile. */
export const hostileFailure = () => new SgsyncError('AWS_UNAVAILABLE', `endpoint said ${HOSTILE}`);
