import { describe, expect, it } from 'vitest';
import { controlRefusal, isLoopbackHost } from './cross-site.js';

const HOST = '127.0.0.1:4566';

describe('a control request', () => {
  it.each<[string, Record<string, string>, boolean]>([
    ['from curl (no Origin, no Sec-Fetch-*)', { host: HOST }, true],
    ['from curl with a form content type', { host: HOST, 'content-type': 'application/x-www-form-urlencoded' }, true],
    ['for localhost', { host: 'localhost:4566' }, true],
    ['for [::1]', { host: '[::1]:4566' }, true],
    ['for another loopback address', { host: '127.0.0.2:4566' }, true],
    ['for loopback on port 80, said or not', { host: '127.0.0.1' }, true],
    ['typed into the address bar', { host: HOST, 'sec-fetch-site': 'none' }, true],
    ['from a page of the sandbox itself', { host: HOST, 'sec-fetch-site': 'same-origin', origin: `http://${HOST}` }, true],
    ['with its own origin on the default port', { host: '127.0.0.1', origin: 'http://127.0.0.1' }, true],
  ])('is taken on loopback %s', (_what, headers, taken) => {
    expect(controlRefusal(headers, true) === undefined).toBe(taken);
  });

  it.each<[string, Record<string, string>, boolean, string]>([
    ['marked cross-site', { host: HOST, 'sec-fetch-site': 'cross-site' }, true, 'Sec-Fetch-Site: cross-site'],
    ['marked same-site (a page on another port)', { host: HOST, 'sec-fetch-site': 'same-site' }, true, 'Sec-Fetch-Site: same-site'],
    ['from another origin', { host: HOST, origin: 'http://evil.example' }, true, 'Origin "http://evil.example"'],
    ['from another port of the same host', { host: HOST, origin: 'http://127.0.0.1:3000' }, true, 'Origin "http://127.0.0.1:3000"'],
    ['from https of the same host and port 80', { host: '127.0.0.1', origin: 'https://127.0.0.1' }, true, 'Origin'],
    ['from an opaque origin', { host: HOST, origin: 'null' }, true, 'Origin "null"'],
    ['for a name rebound to 127.0.0.1', { host: 'rebind.evil.example:4566' }, true, 'not Host "rebind.evil.example:4566"'],
    ['for a name rebound, from its own origin', { host: 'rebind.evil.example:4566', origin: 'http://rebind.evil.example:4566', 'sec-fetch-site': 'same-origin' }, true, 'DNS rebinding'],
    ['for a loopback address followed by more', { host: '[::1]evil:4566' }, true, 'DNS rebinding'],
    ['for a name that starts like one', { host: 'localhost.evil.example' }, true, 'DNS rebinding'],
    ['with no Host', {}, true, 'not Host ""'],
    ['marked cross-site, off loopback', { host: 'sandbox.internal:4566', 'sec-fetch-site': 'cross-site' }, false, 'Sec-Fetch-Site: cross-site'],
    ['from another origin, off loopback', { host: 'sandbox.internal:4566', origin: 'http://evil.example' }, false, 'Origin "http://evil.example"'],
  ])('is refused %s, saying why', (_what, headers, loopback, why) => {
    expect(controlRefusal(headers, loopback)).toContain(why);
  });

  it('off loopback takes any Host: a container or a LAN reaches it by its own name', () => {
    expect(controlRefusal({ host: 'sandbox:4566' }, false)).toBeUndefined();
    expect(controlRefusal({ host: 'sandbox:4566', origin: 'http://sandbox:4566' }, false)).toBeUndefined();
  });

  it('quotes what it refuses as printable text', () => {
    expect(controlRefusal({ host: 'a\u001b[2J' }, true)).toContain('not Host "a?[2J"');
  });
});

describe('a loopback host', () => {
  it.each([['127.0.0.1', true], ['127.9.9.9', true], ['localhost', true], ['::1', true], ['[::1]', true], ['[::ffff:127.0.0.1]', true], ['0.0.0.0', false], ['::', false], ['10.0.0.1', false], ['127.1', false], ['localhost.', false]])(
    '%s: %s',
    (host, loopback) => {
      expect(isLoopbackHost(host)).toBe(loopback);
    },
  );
});
