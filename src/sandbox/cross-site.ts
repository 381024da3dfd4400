import type { IncomingHttpHeaders } from 'node:http';
import ipaddr from 'ipaddr.js';

/**
 * Which control-API requests come from a web page rather than from curl, a
 * test or a script, and so are refused: a page the developer happens to open
 * could otherwise reset the sandbox, inject faults or move its clock with a
 * form or a `no-cors` fetch (simple requests, which no preflight stops).
 * The EC2 Query API needs a SigV4 `Authorization` header, which no page can
 * send cross-site, and IMDS clients name whatever address they were given,
 * so neither is checked here.
 */

/** True for an address (or `localhost`) only this machine reaches. */
export function isLoopbackHost(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (!ipaddr.IPv4.isValidFourPartDecimal(bare) && !ipaddr.IPv6.isValid(bare)) return false;
  return ipaddr.process(bare).range() === 'loopback';
}

/** `name` and `port` of a whole `host[:port]` (a Host header, an origin's host); undefined when it is not that. */
function splitHost(text: string, defaultPort: number): { name: string; port: number } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[^[\]:/@\s]+)(?::(\d{1,5}))?$/i.exec(text);
  if (!m) return undefined;
  return { name: m[1]!.toLowerCase(), port: m[2] === undefined ? defaultPort : Number(m[2]) };
}

/** Printable and short, to be quoted in a message. */
const shown = (text: string) => JSON.stringify(text.slice(0, 80).replace(/[^\x20-\x7e]/g, '?'));

/**
 * Why a control request with these headers is refused, or undefined when it
 * is taken. `loopback`: the sandbox listens on loopback, so only a loopback
 * name or address in `Host` is one of its own (any other is a page that
 * rebound its DNS name to 127.0.0.1).
 *
 * @example controlRefusal({ host: '127.0.0.1:4566', 'sec-fetch-site': 'cross-site' }, true) // 'The control API does not take …'
 */
export function controlRefusal(headers: IncomingHttpHeaders, loopback: boolean): string | undefined {
  const hostHeader = headers.host ?? '';
  const host = splitHost(hostHeader, 80);
  if (loopback && !(host && isLoopbackHost(host.name))) {
    return `The sandbox listens on loopback and takes control requests only for a loopback host name or address (localhost, 127.0.0.1, [::1]), not Host ${shown(hostHeader)}, so that a web page cannot reach it through DNS rebinding.`;
  }
  const site = headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') {
    return `The control API does not take requests a browser marks as coming from another site (Sec-Fetch-Site: ${site}), so that a web page cannot change the sandbox; send them with curl or a script.`;
  }
  const origin = headers.origin;
  if (origin !== undefined && !sameHost(origin, host)) {
    return `The control API does not take requests from a web page of another origin (Origin ${shown(origin)}, Host ${shown(hostHeader)}), so that it cannot change the sandbox; send them with curl or a script.`;
  }
  return undefined;
}

/** True when `origin` (scheme://host[:port]) names the same host and port as the Host header. */
function sameHost(origin: string, host: { name: string; port: number } | undefined): boolean {
  const m = /^(https?):\/\/([^/]+)$/i.exec(origin);
  if (!m || !host) return false;
  const theirs = splitHost(m[2]!, m[1]!.toLowerCase() === 'https' ? 443 : 80);
  return theirs !== undefined && theirs.name === host.name && theirs.port === host.port;
}
