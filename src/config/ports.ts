/**
 * Port specs as people write them (`443`, `8000-8100/udp`, `icmp`, `all`,
 * or `{protocol, port}`) and as EC2 stores them (protocol, from, to).
 */
import type { PortSpec } from '../core/model.js';

/** Shorthand grammar, also published in the JSON Schema so editors can check it. */
export const PORT_SHORTHAND_PATTERN = '^(?:\\d{1,5}(?:-\\d{1,5})?(?:/(?:tcp|udp))?|icmp|icmpv6|all)$';

export const PORT_HINT = 'expected 443, 443/tcp, 8000-8100/udp, icmp, icmpv6, all, or {protocol, port}';

export type PortProtocolName = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'all';

/** The object form of a port spec, as written in sgsync.yaml. */
export interface PortObject {
  protocol: PortProtocolName;
  port?: number | undefined;
  from?: number | undefined;
  to?: number | undefined;
  type?: number | undefined;
  code?: number | undefined;
}

export type PortInput = number | string | PortObject;

const MAX_PORT = 65535;
const SHORTHAND = new RegExp(PORT_SHORTHAND_PATTERN);

/** Whether a text has the shape of a shorthand port (its numbers may still be out of range). */
export function isPortShorthand(input: number | string): boolean {
  return SHORTHAND.test(String(input).trim());
}

/**
 * Parses a shorthand port (`443`, `443/tcp`, `8000-8100/udp`, `icmp`,
 * `icmpv6`, `all`) into EC2's canonical form. A bare number means TCP;
 * `icmp` means every ICMP type and code; `all` is protocol `-1`.
 * Returns a message instead of throwing, so the loader can report every
 * bad port at once.
 */
export function parsePortShorthand(input: number | string): PortSpec | { error: string } {
  const text = String(input).trim();
  const bad = { error: `${JSON.stringify(input)} is not a port, ${PORT_HINT}` };
  if (!SHORTHAND.test(text)) return bad;
  if (text === 'all') return { protocol: '-1', fromPort: -1, toPort: -1 };
  if (text === 'icmp' || text === 'icmpv6') return { protocol: text, fromPort: -1, toPort: -1 };
  const [range = '', proto = 'tcp'] = text.split('/');
  const [from, to = from] = range.split('-').map(Number);
  if (from === undefined || to === undefined) return bad;
  const problem = rangeProblem(from, to);
  if (problem) return { error: `${JSON.stringify(input)}: ${problem}` };
  return { protocol: proto === 'udp' ? 'udp' : 'tcp', fromPort: from, toPort: to };
}

function rangeProblem(from: number, to: number): string | undefined {
  if (from > MAX_PORT || to > MAX_PORT) return `ports go from 0 to ${MAX_PORT}`;
  if (from > to) return `the range starts after it ends (${from} > ${to})`;
  return undefined;
}

/**
 * Checks the object form: tcp/udp take `port` or `from`+`to`; icmp/icmpv6
 * take an optional `type` and `code`; `all` takes nothing. Returns one
 * message per problem, keyed by the field it concerns.
 */
export function portObjectProblems(p: PortObject): { key?: keyof PortObject; message: string }[] {
  const problems: { key?: keyof PortObject; message: string }[] = [];
  const present = (['port', 'from', 'to', 'type', 'code'] as const).filter((k) => p[k] !== undefined);
  const allowed: Record<PortProtocolName, readonly (keyof PortObject)[]> = {
    tcp: ['port', 'from', 'to'],
    udp: ['port', 'from', 'to'],
    icmp: ['type', 'code'],
    icmpv6: ['type', 'code'],
    all: [],
  };
  for (const key of present) {
    if (!allowed[p.protocol].includes(key)) problems.push({ key, message: `not used with protocol ${p.protocol}` });
  }
  if (p.protocol === 'tcp' || p.protocol === 'udp') {
    if (p.port !== undefined && (p.from !== undefined || p.to !== undefined)) {
      problems.push({ key: 'port', message: 'give either port or from and to, not both' });
    } else if (p.port === undefined && (p.from === undefined || p.to === undefined)) {
      problems.push({ message: `protocol ${p.protocol} needs port, or from and to` });
    } else if (p.from !== undefined && p.to !== undefined && p.from > p.to) {
      problems.push({ key: 'to', message: `the range starts after it ends (${p.from} > ${p.to})` });
    }
  }
  if ((p.protocol === 'icmp' || p.protocol === 'icmpv6') && p.code !== undefined && p.type === undefined) {
    problems.push({ key: 'code', message: 'an ICMP code needs a type' });
  }
  return problems;
}

/**
 * Turns a valid port input into EC2's canonical PortSpec. ICMP puts the
 * type in fromPort and the code in toPort, as EC2 does; -1 means any.
 */
export function canonicalPort(input: PortInput): PortSpec {
  if (typeof input !== 'object') {
    const parsed = parsePortShorthand(input);
    if ('error' in parsed) throw new TypeError(parsed.error);
    return parsed;
  }
  switch (input.protocol) {
    case 'all':
      return { protocol: '-1', fromPort: -1, toPort: -1 };
    case 'icmp':
    case 'icmpv6':
      return { protocol: input.protocol, fromPort: input.type ?? -1, toPort: input.code ?? -1 };
    case 'tcp':
    case 'udp':
      return { protocol: input.protocol, fromPort: input.port ?? input.from ?? 0, toPort: input.port ?? input.to ?? MAX_PORT };
  }
}
