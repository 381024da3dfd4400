/**
 * Which of an instance's IPv6 addresses comes first, decided once for the
 * agent and the controller alike.
 *
 * An instance may hold several IPv6 addresses, on several network
 * interfaces. sgsync admits a member by the first of `Member.ipv6` (see
 * `memberCidr`), and the agent reads them from IMDS while the controller reads
 * them from DescribeInstances. Neither source documents the order it lists
 * them in, and neither marks the same address: DescribeInstances flags a
 * primary IPv6 address (`IsPrimaryIpv6`), IMDS does not; IMDS `ipv6` is "the
 * first IPv6 address assigned" to interface 0, which DescribeInstances does
 * not show. So the order is built here from what both can see — which
 * interface is the primary one (device index 0; IMDS `mac`), and the
 * addresses themselves — and not from either source's order. Were the two
 * to put different addresses first, each pass of one would revoke the
 * other's rule as "address changed".
 */
import { classifyAddress } from './addresses.js';
import { parseIp } from './ip.js';

/** One network interface's IPv6 addresses, as an inventory lists them. */
export interface InterfaceIpv6 {
  /** The instance's primary interface: device index 0 in DescribeInstances, IMDS `mac`. */
  primary: boolean;
  addresses: readonly (string | undefined)[];
}

/** Sorts canonical IPv6 addresses by value, as 128-bit numbers. */
function byValue(a: string, b: string): number {
  const x = parseIp(a);
  const y = parseIp(b);
  if (x?.family !== 'ipv6' || y?.family !== 'ipv6') return 0;
  for (let w = 0; w < 8; w++) if (x.words[w] !== y.words[w]) return (x.words[w] ?? 0) - (y.words[w] ?? 0);
  return 0;
}

/**
 * A member's IPv6 addresses in the order sgsync admits them: the primary
 * interface's first, lowest address first; then the other interfaces'
 * addresses, lowest first. Addresses are canonical and listed once. Text
 * that is no IPv6 address comes last, as given, so that a member is refused
 * for it (`invalid-address`) only when it has no address at all.
 *
 * @example
 * orderIpv6([{ primary: false, addresses: ['2600::9'] }, { primary: true, addresses: ['2600::c', '2600::a'] }])
 * // ['2600::a', '2600::c', '2600::9']
 */
export function orderIpv6(interfaces: readonly InterfaceIpv6[]): string[] {
  const primary = new Set<string>();
  const others = new Set<string>();
  const unreadable: string[] = [];
  for (const eni of interfaces) {
    for (const text of eni.addresses) {
      if (typeof text !== 'string' || text === '') continue;
      const address = classifyAddress(text);
      if (address?.family === 'ipv6') (eni.primary ? primary : others).add(address.canonical);
      else if (!unreadable.includes(text)) unreadable.push(text);
    }
  }
  for (const a of primary) others.delete(a);
  return [...[...primary].sort(byValue), ...[...others].sort(byValue), ...unreadable];
}
