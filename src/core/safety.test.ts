import { describe, expect, it } from 'vitest';
import type { PlannedRevoke, RevokeReason } from './model.js';
import { heldBack, heldBackReasons, readNow, revokeLimit, withinGrace } from './safety.js';

describe('the blast-radius limit', () => {
  it.each<[string, { count?: number; fraction?: number } | undefined, number, number | undefined]>([
    ['no limit set means none', {}, 100, undefined],
    ['no settings at all means none', undefined, 100, undefined],
    ['a count is the limit', { count: 5 }, 100, 5],
    ['a fraction is taken of the managed rules', { fraction: 0.25 }, 100, 25],
    ['a fraction rounds down', { fraction: 0.5 }, 5, 2],
    ['a fraction allows at least one revoke: the only rule of a small deployment is no blast', { fraction: 0.5 }, 1, 1],
    ['a count of zero allows none, however many rules', { count: 0, fraction: 0.5 }, 100, 0],
    ['a fraction of zero allows none either: the at-least-one floor is for a positive fraction', { fraction: 0 }, 100, 0],
    ['with both, the count is stricter', { count: 5, fraction: 0.5 }, 100, 5],
    ['with both, the fraction is stricter', { count: 50, fraction: 0.1 }, 100, 10],
    ['a negative count allows nothing', { count: -1 }, 100, 0],
    ['a non-numeric fraction allows nothing', { fraction: Number.NaN }, 100, 0],
  ])('%s', (_case, settings, managed, expected) => {
    expect(revokeLimit(settings, managed)).toBe(expected);
  });
});

describe('grace', () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);
  it.each<[string, number | undefined, number, boolean]>([
    ['a rule registered a minute ago is young under 5 minutes of grace', now - 60_000, 300, true],
    ['a rule registered 10 minutes ago is old', now - 600_000, 300, false],
    ['a rule exactly as old as the grace period is old', now - 300_000, 300, false],
    ['a rule with no registration time is old', undefined, 300, false],
    ['a rule from the future (clock skew) is young', now + 60_000, 300, true],
    ['a rule from as far ahead as the grace period is young', now + 300_000, 300, true],
    ['a rule claiming a time further ahead than the grace period is old: the claim is not believed', now + 300_001, 300, false],
    ['a rule from the year 2099 is old', Date.UTC(2099, 0, 1), 300, false],
    ['with no grace period every rule is old', now - 1, 0, false],
  ])('%s', (_case, registeredAt, graceSeconds, expected) => {
    expect(withinGrace(registeredAt, now, graceSeconds)).toBe(expected);
  });

  it.each([now - 600_000, undefined])('keeps a rule registered at %s young when the pass time is garbled, rather than guess', (registeredAt) => {
    expect(withinGrace(registeredAt, Number.NaN, 300)).toBe(true);
  });
});

describe('the pass time', () => {
  it.each<[string | number, number, string]>([
    ['2025-01-01T00:00:00Z', Date.UTC(2025, 0, 1), '2025-01-01T00:00:00.000Z'],
    [Date.UTC(2025, 0, 1), Date.UTC(2025, 0, 1), '2025-01-01T00:00:00.000Z'],
    ['soon', Number.NaN, 'soon'],
  ])('%s is read as %s', (now, ms, iso) => {
    expect(readNow(now)).toEqual({ ms, iso });
  });
});

describe('the rules a halted pass holds back', () => {
  const halted = { reason: 'blast-radius' as const, wouldRevoke: 3, limit: 2, managed: 10 };
  const revoke = (ruleId: string, reason: RevokeReason): PlannedRevoke => ({
    ruleId, groupId: 'sg-1', target: 'api', family: 'ipv4', cidr: '54.0.0.1/32', port: { protocol: 'tcp', fromPort: 443, toPort: 443 }, instanceId: 'i-1', memberRegion: 'eu-west-1', reason,
  });

  it('keep each one with the limit and what it would have been revoked as, so the stale ones can still be told apart', () => {
    const kept = heldBack([revoke('sgr-1', 'instance-terminated'), revoke('sgr-2', 'address-changed'), revoke('sgr-3', 'malformed')], halted);
    expect(kept.map((k) => [k.ruleId, k.reason, k.wouldRevoke])).toEqual([
      ['sgr-1', 'blast-radius', 'instance-terminated'],
      ['sgr-2', 'blast-radius', 'address-changed'],
      ['sgr-3', 'blast-radius', 'malformed'],
    ]);
    expect(kept[0]?.detail).toBe('the pass would revoke 3 of 10 managed rules; the limit is 2; this rule would be revoked as instance-terminated');
  });
});

describe('what a halted pass holds back, by reason', () => {
  it('counts the held rules by what they would be revoked as, most common first, and leaves other kept rules out', () => {
    const held = (wouldRevoke: RevokeReason) => ({ reason: 'blast-radius' as const, wouldRevoke });
    const kept = [held('not-selected'), held('instance-terminated'), held('not-selected'), { reason: 'grace' as const }, held('port-removed')];
    expect(heldBackReasons(kept)).toBe('2 not-selected, 1 instance-terminated, 1 port-removed');
    expect(heldBackReasons([{ reason: 'grace' }])).toBe('');
  });
});
