import { describe, expect, it } from 'vitest';
import { bucketMinimum, controllerLowerBound, pages, type PassReportView } from './call-bounds.js';
import type { ActionCount } from './sandbox-control.js';

const count = (ok: number, extra: Partial<ActionCount> = {}): ActionCount => ({ calls: ok, ok, failed: 0, throttled: 0, faulted: 0, ...extra });

describe('the yardsticks of the benchmark', () => {
  it('counts 1000 items to a page, and one call even for nothing', () => {
    expect([pages(0), pages(1), pages(1000), pages(1001), pages(20_000)]).toEqual([1, 1, 1, 2, 20]);
  });

  it('charges authorize and revoke to one shared bucket, and throttled calls to none', () => {
    const min = bucketMinimum(
      {
        'us-east-1': {
          AuthorizeSecurityGroupIngress: count(100, { calls: 140, throttled: 40 }),
          RevokeSecurityGroupIngress: count(50),
          DescribeSecurityGroupRules: count(80),
        },
        'eu-west-1': { DescribeInstances: count(150) },
      },
      1,
    );
    // 150 tokens from a bucket of 50 refilled at 5/s: 20 s. 150 describes from 100 at 20/s: 2.5 s.
    expect(min.seconds).toBe(20);
    expect(min.binding).toMatchObject({ region: 'us-east-1', tokens: 150, burst: 50 });
    expect(min.buckets.find((b) => b.region === 'eu-west-1')?.seconds).toBe(2.5);
  });

  it('scales the minimum with the refill rate, and is 0 when everything fits in the bursts', () => {
    const counters = { 'us-east-1': { AuthorizeSecurityGroupIngress: count(150) } };
    expect(bucketMinimum(counters, 10).seconds).toBe(2);
    expect(bucketMinimum({ 'us-east-1': { AuthorizeSecurityGroupIngress: count(50) } }, 1).seconds).toBe(0);
  });

  it("bounds a controller pass by its regions' pages and the groups it changed", () => {
    const report: PassReportView = {
      outcome: 'applied',
      summary: {},
      regions: [
        { region: 'eu-west-1', status: 'complete', instances: 2500 },
        { region: 'ap-southeast-2', status: 'complete', instances: 0 },
        { region: 'sa-east-1', status: 'failed', reason: 'Unavailable' },
      ],
      targets: [
        {
          name: 'api',
          region: 'us-east-1',
          add: [
            { groupId: 'sg-1', instanceId: 'i-1', cidr: '54.0.0.1/32' },
            { groupId: 'sg-1', instanceId: 'i-2', cidr: '54.0.0.2/32' },
            { groupId: 'sg-2', instanceId: 'i-3', cidr: '54.0.0.3/32' },
          ],
          revoke: [{ groupId: 'sg-2', reason: 'instance-terminated' }],
          kept: [],
          blocked: [],
          capacity: [
            { groupId: 'sg-1', before: 600 },
            { groupId: 'sg-2', before: 399 },
          ],
        },
      ],
      errors: [],
    };
    expect(controllerLowerBound(report, 1)).toEqual({
      DescribeRegions: 1,
      DescribeInstances: 3 + 1 + 1,
      DescribeSecurityGroupRules: 2, // 999 inbound + 2 outbound rules
      DescribeSecurityGroups: 1, // that the pool's groups exist
      AuthorizeSecurityGroupIngress: 2,
      RevokeSecurityGroupIngress: 1,
    });
  });

  it('counts one listing of the pool groups per target region, and one more per 200 groups (EC2\'s filter limit)', () => {
    const target = (name: string, region: string, groups: number) => ({
      name, region, add: [], revoke: [], kept: [], blocked: [],
      capacity: Array.from({ length: groups }, (_, i) => ({ groupId: `sg-${name}-${i}`, before: 0 })),
    });
    const report: PassReportView = { outcome: 'in-sync', summary: {}, regions: [], targets: [target('a', 'us-east-1', 150), target('b', 'us-east-1', 60), target('c', 'eu-west-1', 1)], errors: [] };
    expect(controllerLowerBound(report, 1).DescribeSecurityGroups).toBe(2 + 1);
  });
});
