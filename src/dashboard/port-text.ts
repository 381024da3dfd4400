/**
 * How a rule's ports read, wherever one is shown (`plan`, `status`, the
 * dashboard): the one thing that tells apart two rules of the same member
 * and address in a target with several ports.
 */

export interface PortRange {
  protocol: string;
  fromPort: number;
  toPort: number;
}

/**
 * `443/tcp`, `8000-8100/udp`, `all`, `icmp` (any type) or `icmp 8/0` (type/code).
 *
 * @example portText({ protocol: 'tcp', fromPort: 443, toPort: 443 }) // '443/tcp'
 */
export function portText(p: PortRange): string {
  if (p.protocol === '-1') return 'all';
  if (p.protocol === 'icmp' || p.protocol === 'icmpv6') return p.fromPort === -1 ? p.protocol : `${p.protocol} ${p.fromPort}/${p.toPort}`;
  return `${p.fromPort === p.toPort ? p.fromPort : `${p.fromPort}-${p.toPort}`}/${p.protocol}`;
}
