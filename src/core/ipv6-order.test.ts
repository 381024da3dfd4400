import { describe, expect, it } from 'vitest';
import { orderIpv6, type InterfaceIpv6 } from './ipv6-order.js';

const primary = (...addresses: (string | undefined)[]): InterfaceIpv6 => ({ primary: true, addresses });
const other = (...addresses: (string | undefined)[]): InterfaceIpv6 => ({ primary: false, addresses });

describe('orderIpv6', () => {
  it.each<[string, InterfaceIpv6[], string[]]>([
    ['no interface', [], []],
    ['one address', [primary('2600:1f18::5')], ['2600:1f18::5']],
    ['the primary interface lowest first, whatever order it was listed in', [primary('2600:1f18::c', '2600:1f18::a', '2600:1f18::b')], ['2600:1f18::a', '2600:1f18::b', '2600:1f18::c']],
    ['by value, not as text', [primary('2600:1f18::10', '2600:1f18::9')], ['2600:1f18::9', '2600:1f18::10']],
    ['the primary interface before the others, even when theirs are lower', [other('2600:1f18::1'), primary('2600:1f18::9')], ['2600:1f18::9', '2600:1f18::1']],
    ['another interface only when the primary one has none', [primary(), other('2600:1f18::3', '2600:1f18::2')], ['2600:1f18::2', '2600:1f18::3']],
    ['each address once, canonical, wherever else it is listed', [primary('2600:1F18:0:0::A'), other('2600:1f18::a'), primary('2600:1f18::a')], ['2600:1f18::a']],
    ['global unicast before unique local', [primary('fd00::1', '2600:1f18::9')], ['2600:1f18::9', 'fd00::1']],
    ['text that is no IPv6 address last, as given', [primary('not-an-ip', '2600:1f18::9', '', undefined, '10.0.0.1')], ['2600:1f18::9', 'not-an-ip', '10.0.0.1']],
  ])('orders %s', (_what, interfaces, expected) => {
    expect(orderIpv6(interfaces)).toEqual(expected);
  });

  it('gives the same order for the same addresses however they were listed', () => {
    const addresses = ['2600:1f18::c', '2600:1f18::a', '2600:1f18:0:1::', '2600:1f18::b'];
    const reversed = [...addresses].reverse();
    expect(orderIpv6([primary(...addresses)])).toEqual(orderIpv6([primary(...reversed)]));
  });
});
