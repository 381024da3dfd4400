import { describe, expect, it } from 'vitest';
import { canonicalPort, parsePortShorthand, portObjectProblems, type PortInput, type PortObject } from './ports.js';

describe('port shorthand', () => {
  it.each<[number | string, string, number, number]>([
    [443, 'tcp', 443, 443],
    ['443', 'tcp', 443, 443],
    ['443/tcp', 'tcp', 443, 443],
    ['53/udp', 'udp', 53, 53],
    ['8000-8100/tcp', 'tcp', 8000, 8100],
    ['8000-8100', 'tcp', 8000, 8100],
    ['0-65535/udp', 'udp', 0, 65535],
    ['icmp', 'icmp', -1, -1],
    ['icmpv6', 'icmpv6', -1, -1],
    ['all', '-1', -1, -1],
  ])('reads %j as protocol %s from %i to %i', (input, protocol, fromPort, toPort) => {
    expect(parsePortShorthand(input)).toEqual({ protocol, fromPort, toPort });
  });

  it.each<[number | string, string]>([
    ['44x', '"44x" is not a port, expected 443, 443/tcp, 8000-8100/udp, icmp, icmpv6, all, or {protocol, port}'],
    ['443/sctp', '"443/sctp" is not a port, expected 443, 443/tcp, 8000-8100/udp, icmp, icmpv6, all, or {protocol, port}'],
    ['ALL', '"ALL" is not a port, expected 443, 443/tcp, 8000-8100/udp, icmp, icmpv6, all, or {protocol, port}'],
    ['-1', '"-1" is not a port, expected 443, 443/tcp, 8000-8100/udp, icmp, icmpv6, all, or {protocol, port}'],
    ['70000', '"70000": ports go from 0 to 65535'],
    ['8100-8000/udp', '"8100-8000/udp": the range starts after it ends (8100 > 8000)'],
  ])('refuses %j: %s', (input, error) => {
    expect(parsePortShorthand(input)).toEqual({ error });
  });
});

describe('port objects', () => {
  it.each<[PortInput, string, number, number]>([
    [{ protocol: 'tcp', port: 22 }, 'tcp', 22, 22],
    [{ protocol: 'udp', from: 3000, to: 3010 }, 'udp', 3000, 3010],
    [{ protocol: 'icmp' }, 'icmp', -1, -1],
    [{ protocol: 'icmp', type: 8 }, 'icmp', 8, -1],
    [{ protocol: 'icmp', type: 3, code: 4 }, 'icmp', 3, 4],
    [{ protocol: 'icmpv6', type: 128, code: 0 }, 'icmpv6', 128, 0],
    [{ protocol: 'all' }, '-1', -1, -1],
  ])('turns %j into EC2 protocol %s from %i to %i', (input, protocol, fromPort, toPort) => {
    expect(canonicalPort(input)).toEqual({ protocol, fromPort, toPort });
  });

  it.each<[PortObject, { key?: string; message: string }[]]>([
    [{ protocol: 'tcp' }, [{ message: 'protocol tcp needs port, or from and to' }]],
    [{ protocol: 'udp', from: 10 }, [{ message: 'protocol udp needs port, or from and to' }]],
    [{ protocol: 'tcp', port: 1, from: 1, to: 2 }, [{ key: 'port', message: 'give either port or from and to, not both' }]],
    [{ protocol: 'tcp', from: 9, to: 8 }, [{ key: 'to', message: 'the range starts after it ends (9 > 8)' }]],
    [{ protocol: 'icmp', code: 1 }, [{ key: 'code', message: 'an ICMP code needs a type' }]],
    [{ protocol: 'all', port: 80 }, [{ key: 'port', message: 'not used with protocol all' }]],
    [{ protocol: 'icmp', port: 80 }, [{ key: 'port', message: 'not used with protocol icmp' }]],
    [{ protocol: 'tcp', port: 80 }, []],
  ])('finds the problems of %j', (input, problems) => {
    expect(portObjectProblems(input)).toEqual(problems);
  });
});
