import { describe, expect, it } from 'vitest';
import { allowedHostsFor, hostAllowed, hostEntry, isLoopbackHost, isWildcardHost, quotedHost, suggestedEntry } from './allowed-hosts.js';

describe('the hosts a listener answers to', () => {
  it.each([
    ['127.0.0.1', ['127.0.0.1', 'localhost', '[::1]'], false],
    ['localhost', ['127.0.0.1', 'localhost', '[::1]'], false],
    ['::1', ['127.0.0.1', 'localhost', '[::1]'], false],
    ['127.0.0.2', ['127.0.0.1', 'localhost', '[::1]', '127.0.0.2'], false],
    ['0.0.0.0', ['127.0.0.1', 'localhost', '[::1]'], true],
    ['::', ['127.0.0.1', 'localhost', '[::1]'], true],
    ['0:0:0:0:0:0:0:0', ['127.0.0.1', 'localhost', '[::1]'], true],
    ['192.168.1.10', ['192.168.1.10'], false],
    ['FE80::0:1', ['[fe80::1]'], false],
    ['Box.LAN', ['box.lan'], false],
  ])('on %s: %j, and any address: %s', (bind, names, anyAddress) => {
    expect(allowedHostsFor(bind)).toEqual({ names, anyAddress });
  });

  it('adds the names it is given, once each', () => {
    expect(allowedHostsFor('127.0.0.1', ['dash.example.com', 'localhost']).names).toEqual(['127.0.0.1', 'localhost', '[::1]', 'dash.example.com']);
  });

  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['LOCALHOST', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.1', false],
    ['localhost.example.com', false],
  ])('takes %s as loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it.each([['0.0.0.0', true], ['::', true], ['::0', true], ['127.0.0.1', false], ['', false]])('takes %j as every interface: %s', (host, wildcard) => {
    expect(isWildcardHost(host)).toBe(wildcard);
  });
});

describe('a Host header', () => {
  const loopback = allowedHostsFor('127.0.0.1');
  const lan = allowedHostsFor('192.168.1.10', ['dash.example.com']);
  const wildcard = allowedHostsFor('0.0.0.0', ['dash.example.com']);

  it.each([
    [loopback, '127.0.0.1:8080'],
    [loopback, '127.0.0.1'],
    [loopback, 'localhost:1'],
    [loopback, 'LocalHost:65535'],
    [loopback, '[::1]:8080'],
    [lan, '192.168.1.10:8080'],
    [lan, 'dash.example.com'],
    [lan, 'DASH.example.com:443'],
    [wildcard, 'localhost:8080'],
    [wildcard, '10.1.2.3:8080'],
    [wildcard, '[2001:db8::7]:8080'],
    [wildcard, 'dash.example.com:8080'],
  ])('is answered when it is a name on the list, or an address on a wildcard: %j, %s', (allowed, header) => {
    expect(hostAllowed(header, allowed)).toBe(true);
  });

  it.each([
    [loopback, undefined],
    [loopback, ''],
    [loopback, 'evil.example:8080'],
    [loopback, 'evil.example'],
    [loopback, '127.0.0.2:8080'],
    [loopback, '[::1]anything'],
    [loopback, '[::1]:8080x'],
    [loopback, '127.0.0.1:8080:1'],
    [loopback, '127.0.0.1:65536'],
    [loopback, '127.0.0.1:'],
    [loopback, 'localhost.'],
    [loopback, '127.0.0.1 '],
    [loopback, 'localhost@evil.example'],
    [lan, '192.168.1.11:8080'],
    [lan, 'sub.dash.example.com'],
    [lan, 'localhost:8080'],
    [wildcard, 'evil.example:8080'],
    [wildcard, '127.1:8080'],
    [wildcard, '[10.1.2.3]:8080'],
    [wildcard, '[::1]x:8080'],
    [wildcard, '10.1.2.3.evil.example'],
  ])('is refused otherwise, the whole header compared: %j, %j', (allowed, header) => {
    expect(hostAllowed(header, allowed)).toBe(false);
  });

  it('is quoted in a refusal as printable text, and names what to allow when it is a name', () => {
    expect(quotedHost('evil.example:8080')).toBe('Host "evil.example:8080"');
    expect(quotedHost('a\u001b[2Jb')).toBe('Host "a?[2Jb"');
    expect(quotedHost(undefined)).toBe('no Host header');
    expect(quotedHost('x'.repeat(200))).toBe(`Host "${'x'.repeat(80)}…"`);
    expect(suggestedEntry('Evil.Example:8080')).toBe('evil.example');
    expect(suggestedEntry('[::1]anything')).toBeUndefined();
  });
});

describe('a name to allow', () => {
  it.each([
    ['dash.example.com', 'dash.example.com'],
    ['Dash.Example.COM', 'dash.example.com'],
    ['localhost', 'localhost'],
    ['10.0.0.5', '10.0.0.5'],
    ['fe80::1', '[fe80::1]'],
    ['[2001:DB8:0::1]', '[2001:db8::1]'],
    ['my_host', 'my_host'],
  ])('%s is written %s', (value, entry) => {
    expect(hostEntry(value)).toBe(entry);
  });

  it.each(['', 'http://dash.example.com', 'dash.example.com:8080', 'dash.example.com/', '*', '*.example.com', 'a b', '-x.example', 'x..example', 'fe80::1%eth0'])('%j is not one', (value) => {
    expect(hostEntry(value)).toBeUndefined();
  });
});
