import { describe, expect, it } from 'vitest';
import type { TargetReport } from '../controller/report.js';
import { targetLines } from './status.js';

const tcp = (p: number) => ({ protocol: 'tcp' as const, fromPort: p, toPort: p });

// One member of a target with two ports: every line of its drift comes twice, once per port.
const target: TargetReport = {
  name: 'api', region: 'us-east-1', refused: [], foreign: [], capacity: [],
  add: [443, 8443].map((p) => ({ groupId: 'sg-1', instanceId: 'i-1', memberRegion: 'eu-west-1', cidr: '199.80.128.98/32', port: tcp(p) })),
  revoke: [443, 8443].map((p) => ({ groupId: 'sg-1', ruleId: `sgr-${p}`, cidr: '54.0.0.2/32', port: tcp(p), instanceId: 'i-2', reason: 'instance-stopped' })),
  kept: [443, 8443].map((p) => ({ groupId: 'sg-1', ruleId: `sgr-k${p}`, cidr: '54.0.0.3/32', port: tcp(p), instanceId: 'i-3', reason: 'blast-radius' as const, detail: 'limit' })),
  blocked: [{ instanceId: 'i-4', memberRegion: 'eu-west-1', cidr: '54.0.0.4/32', family: 'ipv4', port: { protocol: 'udp', fromPort: 8000, toPort: 8100 }, reason: 'capacity' }],
};

describe('the drift of a target in `sgsync status`', () => {
  const lines = targetLines(target).split('\n');
  const of = (word: string) => lines.filter((l) => l.startsWith(`${word} `)).map((l) => l.split(/\s{2,}/));

  it('names the port of every line, so a member with several ports does not show the same line twice', () => {
    expect(lines.find((l) => l.startsWith('drift'))?.split(/\s{2,}/)).toEqual(['drift', 'instance', 'address', 'port', 'detail']);
    expect(of('missing').map((c) => c[3])).toEqual(['443/tcp', '8443/tcp']);
    expect(of('stale').map((c) => c[3])).toEqual(['443/tcp', '8443/tcp']);
    expect(of('kept').map((c) => c[3])).toEqual(['443/tcp', '8443/tcp']);
    expect(of('blocked').map((c) => c[3])).toEqual(['8000-8100/udp']);
  });
});
