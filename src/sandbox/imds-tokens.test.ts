import { describe, expect, it } from 'vitest';
import { ANY_INSTANCE, ImdsTokens } from './imds-tokens.js';

function tokens() {
  let now = 1_000_000;
  return { store: new ImdsTokens(() => now), advance: (ms: number) => (now += ms) };
}

describe('IMDS session tokens', () => {
  it('are valid until their TTL runs out, and not after', () => {
    const { store, advance } = tokens();
    const token = store.issue('i-0123456789abcdef0', 10);
    expect(store.accepts(token, 'i-0123456789abcdef0')).toBe(true);
    advance(9_999);
    expect(store.accepts(token, 'i-0123456789abcdef0')).toBe(true);
    advance(1);
    expect(store.accepts(token, 'i-0123456789abcdef0')).toBe(false);
  });

  it.each([
    ['a token for one instance', 'i-0123456789abcdef0', 'i-0123456789abcdef0', true],
    ['a token for one instance, used for another', 'i-0123456789abcdef0', 'i-0fedcba9876543210', false],
    ['a token for any instance', ANY_INSTANCE, 'i-0fedcba9876543210', true],
  ])('accept %s: %s', (_what, scope, usedFor, expected) => {
    const { store } = tokens();
    expect(store.accepts(store.issue(scope, 60), usedFor)).toBe(expected);
  });

  it.each([
    ['no token', undefined],
    ['an empty token', ''],
    ['garbage', 'AQAEAFake'],
    ['a token with extra parts', 'a.b.c'],
  ])('refuse %s', (_what, token) => {
    expect(tokens().store.accepts(token, 'i-0123456789abcdef0')).toBe(false);
  });

  it('refuse a token whose scope or expiry was edited, and one from another sandbox', () => {
    const { store } = tokens();
    const token = store.issue('i-0123456789abcdef0', 60);
    const [, seal] = token.split('.');
    const forged = `${Buffer.from(`${Number.MAX_SAFE_INTEGER}:${ANY_INSTANCE}`).toString('base64url')}.${seal}`;
    expect(store.accepts(forged, 'i-0123456789abcdef0')).toBe(false);
    expect(tokens().store.accepts(token, 'i-0123456789abcdef0')).toBe(false);
  });

  it('refuse tokens issued before the epoch moved on (the service restarted), and accept new ones', () => {
    let epoch = 0;
    const store = new ImdsTokens(() => 1_000_000, () => epoch);
    const stale = store.issue('i-0123456789abcdef0', 60);
    epoch++;
    expect(store.accepts(stale, 'i-0123456789abcdef0')).toBe(false);
    expect(store.accepts(store.issue('i-0123456789abcdef0', 60), 'i-0123456789abcdef0')).toBe(true);
  });
});
