import { describe, expect, it } from 'vitest';
import type { TargetReport } from '../../controller/report.js';
import type { FleetView } from '../fleet-view.js';
import { DriftSection } from './drift.js';

const tcp = (from: number, to = from) => ({ protocol: 'tcp' as const, fromPort: from, toPort: to });

// One member's rules in a target with two ports: a port range and a single port.
const target: TargetReport = {
  name: 'api', region: 'us-east-1', refused: [], foreign: [], capacity: [], blocked: [], missing: [],
  add: [tcp(8000, 8100), tcp(443)].map((port) => ({ groupId: 'sg-1', instanceId: 'i-1', memberRegion: 'eu-west-1', cidr: '54.0.0.1/32', port })),
  revoke: [tcp(8000, 8100), tcp(443)].map((port, i) => ({ groupId: 'sg-1', ruleId: `sgr-r${i}`, cidr: '54.0.0.2/32', port, instanceId: 'i-2', reason: 'instance-stopped' })),
  kept: [tcp(8000, 8100), tcp(443)].map((port, i) => ({ groupId: 'sg-1', ruleId: `sgr-k${i}`, cidr: '54.0.0.3/32', port, instanceId: 'i-3', reason: 'blast-radius' as const, detail: 'limit 0' })),
};
const view = { regions: [], plan: { warnings: [] }, report: { outcome: 'changes-pending', summary: { add: 2, revoke: 2, kept: 2, blocked: 0, refused: 0, dangerous: 0 }, targets: [target] } } as unknown as FleetView;

async function tableRows(caption: string): Promise<string[][]> {
  const html = await (DriftSection({ view, refresh: 0 }) as { toString(): string | Promise<string> }).toString();
  const table = new RegExp(`<caption>${caption} \\(\\d+\\)</caption>(.*?)</table>`, 's').exec(html)?.[1] ?? '';
  return [...table.matchAll(/<tr>(.*?)<\/tr>/gs)].map((m) => [...m[1]!.matchAll(/<t[dh][^>]*>(.*?)<\/t[dh]>/g)].map((c) => c[1]!));
}

describe('the Drift page', () => {
  it.each([
    ['Would add', 3],
    ['Would revoke', 2],
    ['Kept by the safety rules', 2],
  ])('shows the port of each rule in "%s", port ranges whole', async (caption, column) => {
    const [head, ...rows] = await tableRows(caption);
    expect(head?.[column]).toBe('Port');
    expect(rows.map((r) => r[column])).toEqual(['8000-8100/tcp', '443/tcp']);
  });
});

describe('the Drift page, when a pool group does not exist', () => {
  const message = 'Security group sg-9 (targets[0].groups[1] in sgsync.yaml) does not exist in us-east-1; nothing is placed in it.';
  const gone: TargetReport = {
    ...target, add: [], revoke: [], kept: [], missing: ['sg-9'],
    blocked: [{ instanceId: 'i-4', memberRegion: 'eu-west-1', cidr: '54.0.0.4/32', family: 'ipv4', port: tcp(443), reason: 'no-group' }],
  };
  const broken = { regions: [], plan: { warnings: [] }, report: { outcome: 'incomplete', summary: { add: 0, revoke: 0, kept: 0, blocked: 1, refused: 0, dangerous: 0, missing: 1 }, targets: [gone], errors: [{ code: 'NOT_FOUND', message }] } } as unknown as FleetView;

  it('says so in a banner in the words of the error, and why its members are blocked', async () => {
    const html = await (DriftSection({ view: broken, refresh: 0 }) as { toString(): string | Promise<string> }).toString();
    expect(html).toContain(`<p class="banner" role="alert">${message}</p>`);
    expect(html).not.toContain('In step');
    expect(html).toMatch(/<caption>Blocked \(1\)<\/caption>.*<td class="wrap">no group of the pool exists<\/td>/s);
  });
});

describe('the Drift page, when a target has retired groups', () => {
  const page = (retired: TargetReport['retired']) => {
    const t: TargetReport = { ...target, add: [], revoke: [], kept: [], retired };
    const v = { regions: [], plan: { warnings: [] }, report: { outcome: 'in-sync', summary: { add: 0, revoke: 0, kept: 0, blocked: 0, refused: 0, dangerous: 0 }, targets: [t] } } as unknown as FleetView;
    return (DriftSection({ view: v, refresh: 0 }) as { toString(): string | Promise<string> }).toString();
  };

  it('is not in step while one still holds rules of the target', async () => {
    const html = await page([{ groupId: 'sg-9', rules: 2, left: 2 }]);
    expect(html).toContain('<p class="retired" data-group="sg-9">Retired sg-9: 2 rules, still there after a pass</p>');
    expect(html).not.toContain('In step');
  });

  it('is in step once they are empty, and says the key can go', async () => {
    const html = await page([{ groupId: 'sg-9', rules: 0, left: 0 }]);
    expect(html).toContain('In step');
    expect(html).toContain('Retired sg-9: empty; remove it from retiredGroups');
  });
});
