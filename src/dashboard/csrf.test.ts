import { describe, expect, it } from 'vitest';
import { newToken, refuseCrossSite } from './csrf.js';

const token = newToken();
const ok = { token, expected: token, origin: 'http://127.0.0.1:8080', secFetchSite: 'same-origin', host: '127.0.0.1:8080' };

describe('the reconcile POST guard', () => {
  it('lets a same-origin form with the right token through', () => {
    expect(refuseCrossSite(ok)).toBeUndefined();
  });

  it('lets a client that sends no browser headers through with the right token', () => {
    expect(refuseCrossSite({ ...ok, origin: undefined, secFetchSite: undefined })).toBeUndefined();
  });

  it.each([
    ['a wrong token', { token: 'x'.repeat(token.length) }, 'token'],
    ['a missing token', { token: undefined }, 'token'],
    ['a token of another length', { token: `${token}x` }, 'token'],
    ['a form from another site', { origin: 'https://evil.example', secFetchSite: 'cross-site' }, 'cross-site'],
    ['a foreign Origin alone', { origin: 'https://evil.example', secFetchSite: undefined }, 'evil.example'],
    ['an opaque Origin', { origin: 'null', secFetchSite: undefined }, 'null'],
    ['a same-site subdomain', { secFetchSite: 'same-site' }, 'same-site'],
    ['the same host on another port', { origin: 'http://127.0.0.1:9999' }, '9999'],
  ])('refuses %s', (_what, change, mention) => {
    expect(refuseCrossSite({ ...ok, ...change })).toContain(mention);
  });

  it('issues a different secret every time', () => {
    expect(newToken()).not.toBe(newToken());
    expect(newToken()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
