/**
 * The Host names a server of sgsync's answers to. A web page that rebinds
 * its own DNS name to this machine's address (DNS rebinding) reaches the
 * server as the same origin as itself, so no CORS or Origin check stops it;
 * but its browser still sends the page's name in `Host`. Answering only to
 * the names the server is really reached by keeps such a page out. It is not
 * access control: anything but a browser can send whatever `Host` it likes.
 */
import ipaddr from 'ipaddr.js';

/** The names a browser uses for a loopback listener. */
export const LOOPBACK_NAMES: readonly string[] = ['127.0.0.1', 'localhost', '[::1]'];

export interface AllowedHosts {
  /** Names and addresses, lower case, IPv6 addresses in brackets; each is answered with any port (`name`, `name:8080`). */
  readonly names: readonly string[];
  /**
   * Any IP address too, under any port: a wildcard listener is reached by
   * whatever address routes to it (a NAT's or a container host's among
   * them), and a page cannot rebind an address, only a name.
   */
  readonly anyAddress: boolean;
}

function addressOf(host: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  // Four-part decimal only: `127.1` is a name to the resolver here, not what a browser writes.
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare);
  return ipaddr.IPv6.isValid(bare) && !bare.includes('%') ? ipaddr.IPv6.parse(bare) : undefined;
}

/** True for an address (or `localhost`) only this machine reaches: 127.0.0.0/8, ::1, ::ffff:127.x.y.z. */
export function isLoopbackHost(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const address = addressOf(host);
  return address !== undefined && ipaddr.process(address.toString()).range() === 'loopback';
}

/** True for `0.0.0.0` and `::` in any spelling: a listener on every interface. */
export function isWildcardHost(host: string): boolean {
  return addressOf(host)?.range() === 'unspecified';
}

/**
 * `value` as an entry of the list (lower case; an IPv6 address in brackets,
 * as a browser writes it), or undefined when it is not a host name or an
 * address: a scheme, a port, a path or a wildcard is not.
 *
 * @example hostEntry('Dash.Example.COM') // 'dash.example.com'
 * @example hostEntry('fe80::1') // '[fe80::1]'
 */
export function hostEntry(value: string): string | undefined {
  const address = addressOf(value);
  if (address) return address.kind() === 'ipv6' ? `[${(address as ipaddr.IPv6).toRFC5952String()}]` : address.toString();
  const name = value.toLowerCase();
  const label = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
  return name.length <= 253 && name.split('.').every((l) => label.test(l)) ? name : undefined;
}

/**
 * What a server listening on `bind` answers to: on loopback, the loopback
 * names; on a wildcard, the loopback names and any address; otherwise the
 * address (or name) it listens on. `extra` adds names, as `hostEntry` writes
 * them.
 *
 * @example allowedHostsFor('127.0.0.1').names // ['127.0.0.1', 'localhost', '[::1]']
 * @example allowedHostsFor('0.0.0.0', ['dash.example.com']) // { names: [...loopback, 'dash.example.com'], anyAddress: true }
 */
export function allowedHostsFor(bind: string, extra: readonly string[] = []): AllowedHosts {
  const wildcard = isWildcardHost(bind);
  const own = wildcard ? [] : [hostEntry(bind) ?? bind.toLowerCase()];
  const names = [...(wildcard || isLoopbackHost(bind) ? LOOPBACK_NAMES : []), ...own, ...extra];
  return { names: [...new Set(names)], anyAddress: wildcard };
}

/** `name[:port]` of a whole Host header; undefined when it is not that (`[::1]x`, `a:b:c`, a port past 65535). */
function splitHost(header: string): { name: string; port?: number } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[^[\]:]+)(?::(\d{1,5}))?$/i.exec(header);
  if (!m || (m[2] !== undefined && Number(m[2]) > 65535)) return undefined;
  return { name: m[1]!.toLowerCase(), ...(m[2] !== undefined ? { port: Number(m[2]) } : {}) };
}

/**
 * True when the whole Host header is `name` or `name:port` for a name on the
 * list (or any address, when the list takes any).
 */
export function hostAllowed(header: string | undefined, allowed: AllowedHosts): boolean {
  const host = header === undefined ? undefined : splitHost(header);
  if (!host) return false;
  if (allowed.names.includes(host.name)) return true;
  // As a browser writes an address: IPv4 as it is, IPv6 in brackets.
  const address = host.name.startsWith('[') ? ipaddr.IPv6.isValid(host.name.slice(1, -1)) : ipaddr.IPv4.isValidFourPartDecimal(host.name);
  return allowed.anyAddress && address;
}

/** A Host header quoted for an answer: printable ASCII only, not too long to read. */
export function quotedHost(header: string | undefined): string {
  if (header === undefined || header === '') return 'no Host header';
  const shown = header.length > 80 ? `${header.slice(0, 80)}…` : header;
  return `Host ${JSON.stringify(shown.replace(/[^\x20-\x7e…]/g, '?'))}`;
}

/** The name to suggest adding for a refused Host header, if it names one. */
export function suggestedEntry(header: string | undefined): string | undefined {
  const host = header === undefined ? undefined : splitHost(header);
  return host ? hostEntry(host.name) : undefined;
}
