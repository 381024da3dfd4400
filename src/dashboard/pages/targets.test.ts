import { describe, expect, it } from 'vitest';
import type { CapacityLine, Target } from '../../core/model.js';
import type { FleetView } from '../fleet-view.js';
import { UsageHistory } from '../usage-history.js';
import { TargetsSection } from './targets.js';

const api: Target = { name: 'api', region: 'us-east-1', groupIds: ['sg-1', 'sg-2'], ports: [{ protocol: 'tcp', fromPort: 443, toPort: 443 }], families: ['ipv4'], address: 'public', quota: 60, selector: {} };
const message = 'Security group sg-1 (targets[0].groups[0] in sgsync.yaml) does not exist in us-east-1; nothing is placed in it.';
const capacity: CapacityLine[] = [
  { target: 'api', groupId: 'sg-1', family: 'ipv4', quota: 60, before: 0, after: 0, managed: 0, foreign: 0, missing: true },
  { target: 'api', groupId: 'sg-2', family: 'ipv4', quota: 60, before: 5, after: 5, managed: 5, foreign: 0 },
];

function render(over: Partial<FleetView> = {}): Promise<string> {
  const view = {
    targets: [api],
    plan: { capacity, foreign: [], missing: [{ target: 'api', groupId: 'sg-1', region: 'us-east-1' }] },
    report: { targets: [], errors: [{ code: 'NOT_FOUND', message, groupId: 'sg-1', region: 'us-east-1' }] },
    ...over,
  } as unknown as FleetView;
  return Promise.resolve((TargetsSection({ view, history: new UsageHistory(), refresh: 0 }) as { toString(): string | Promise<string> }).toString());
}

describe('the Targets page', () => {
  it('shows a pool group that does not exist as such, with where the configuration lists it, and no gauge of room in it', async () => {
    const html = await render();
    expect(html).toMatch(/<div class="gauge missing" data-group="sg-1" data-family="ipv4" data-missing="true">/);
    expect(html).toContain('does not exist');
    expect(html).toContain('targets[0].groups[0] in sgsync.yaml');
    // Only the group that exists has a meter.
    expect([...html.matchAll(/<meter /g)]).toHaveLength(1);
    expect(html).toMatch(/<meter [^>]*aria-label="sg-2 ipv4 rules used"/);
  });

  it('says when the groups could not be checked, and what permission to add', async () => {
    const html = await render({ groupCheck: { missing: [], unchecked: [{ region: 'us-east-1', code: 'PERMISSION_DENIED', reason: 'denied' }] } });
    expect(html).toMatch(/<p class="banner info" role="status">Could not check that the pool groups exist in us-east-1 .*Add ec2:DescribeSecurityGroups to the role/);
  });
});

describe('the Targets page ports', () => {
  it('reads a target\'s ports and a foreign rule\'s as every other view does (ICMP any type, all traffic)', async () => {
    const ports = [
      { protocol: 'icmp', fromPort: -1, toPort: -1 },
      { protocol: 'tcp', fromPort: 8000, toPort: 8100 },
    ];
    const foreign = [{ ruleId: 'sgr-1', groupId: 'sg-2', target: 'api', family: 'ipv4', protocol: '-1', fromPort: -1, toPort: -1, cidr: '192.0.2.0/24', dangerous: false }];
    const view = {
      targets: [{ ...api, ports }],
      plan: { capacity, foreign, missing: [] },
      report: { targets: [], errors: [] },
    } as unknown as FleetView;
    const html = await Promise.resolve((TargetsSection({ view, history: new UsageHistory(), refresh: 0 }) as { toString(): string | Promise<string> }).toString());
    expect(html).toContain('us-east-1 · icmp, 8000-8100/tcp ·');
    expect(html).not.toContain('-1/icmp');
    expect(html).toMatch(/<td>all<\/td>/);
  });
});

describe('the Targets page pool line', () => {
  it('sums the groups that exist above their gauges', async () => {
    const html = await render();
    expect(html).toContain('<p class="pool" data-family="ipv4" data-room="55"><strong>Pool</strong> ipv4: 5 of 60 rules used in 1 group; room for 55 more</p>');
  });
});

describe('a target with retired groups on the Targets page', () => {
  it('says beside the pool how many rules each still holds, and when one is empty', async () => {
    const html = await render({ report: { targets: [{ name: 'api', retired: [{ groupId: 'sg-9', rules: 4, left: 0 }, { groupId: 'sg-8', rules: 0, left: 0, missing: true }] }], errors: [] } } as unknown as Partial<FleetView>);
    expect(html).toContain('<p class="pool retired" data-group="sg-9" data-left="0">Retired sg-9: 4 rules, none after a pass (then remove it from retiredGroups)</p>');
    expect(html).toContain('Retired sg-8: does not exist, nothing to drain; remove it from retiredGroups');
  });
});
