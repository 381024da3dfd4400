import { describe, expect, it } from 'vitest';
import { AWS_DEFAULT_RATES, bucketOf, Pacer, TokenBucket } from './pacing.js';

/** A clock the test moves by hand. */
function clock() {
  let t = 1_000;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('TokenBucket', () => {
  it('lends its burst at once but one token, then spaces each further call one refill interval apart', () => {
    const c = clock();
    const bucket = new TokenBucket({ burst: 4, perSecond: 5 }, c.now);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([200, 400, 600]);
  });

  it('refills with time, up to its burst and no further', () => {
    const c = clock();
    const bucket = new TokenBucket({ burst: 3, perSecond: 10 }, c.now);
    bucket.reserve();
    bucket.reserve();
    c.advance(100);
    expect(bucket.reserve()).toBe(0);
    expect(bucket.reserve()).toBe(100);
    c.advance(60_000);
    expect(bucket.available()).toBe(2);
  });

  it('repays what it lent before lending again', () => {
    const c = clock();
    const bucket = new TokenBucket({ burst: 2, perSecond: 4 }, c.now);
    bucket.reserve();
    expect(bucket.reserve()).toBe(250);
    c.advance(250);
    // The token that refilled went to the call that waited for it.
    expect(bucket.reserve()).toBe(250);
  });

  it('keeps no token in hand when its burst is a single token', () => {
    const c = clock();
    const bucket = new TokenBucket({ burst: 1, perSecond: 5 }, c.now);
    expect([bucket.reserve(), bucket.reserve()]).toEqual([0, 200]);
  });

  it('empties on a throttling answer, so the next call waits for a fresh token', () => {
    const c = clock();
    const bucket = new TokenBucket({ burst: 50, perSecond: 5 }, c.now);
    bucket.reserve();
    bucket.drain();
    expect(bucket.available()).toBe(0);
    expect(bucket.reserve()).toBe(200);
  });

  it('keeps its debt when drained while calls are already waiting', () => {
    const c = clock();
    const bucket = new TokenBucket({ burst: 2, perSecond: 5 }, c.now);
    bucket.reserve();
    bucket.reserve();
    bucket.drain();
    expect(bucket.reserve()).toBe(400);
  });
});

describe('bucketOf', () => {
  it('puts authorize and revoke in one bucket, and each describe action in its own', () => {
    expect(bucketOf('AuthorizeSecurityGroupIngress')).toEqual(bucketOf('RevokeSecurityGroupIngress'));
    expect(bucketOf('AuthorizeSecurityGroupIngress')?.kind).toBe('securityGroupWrites');
    expect(bucketOf('DescribeInstances')).toEqual({ key: 'DescribeInstances', kind: 'describes' });
    expect(bucketOf('DescribeSecurityGroupRules')?.key).not.toBe(bucketOf('DescribeInstances')?.key);
  });

  it('leaves actions sgsync does not pace alone', () => {
    expect(bucketOf('CreateTags')).toBeUndefined();
    expect(bucketOf('RunInstances')).toBeUndefined();
  });
});

describe('Pacer', () => {
  it("has AWS's bucket sizes by default", () => {
    expect(AWS_DEFAULT_RATES).toEqual({ securityGroupWrites: { burst: 50, perSecond: 5 }, describes: { burst: 100, perSecond: 20 } });
  });

  it('keeps one bucket per region: one region throttled does not slow another', () => {
    const c = clock();
    const pacer = new Pacer({ securityGroupWrites: { burst: 2, perSecond: 5 }, describes: { burst: 2, perSecond: 5 } }, c.now);
    expect(pacer.reserve('us-east-1', 'AuthorizeSecurityGroupIngress')).toBe(0);
    expect(pacer.reserve('us-east-1', 'RevokeSecurityGroupIngress')).toBe(200);
    expect(pacer.reserve('eu-west-1', 'RevokeSecurityGroupIngress')).toBe(0);
    expect(pacer.reserve('us-east-1', 'DescribeSecurityGroupRules')).toBe(0);
  });

  it('drains only the bucket of the action that was throttled', () => {
    const c = clock();
    const pacer = new Pacer({ securityGroupWrites: { burst: 10, perSecond: 5 }, describes: { burst: 10, perSecond: 5 } }, c.now);
    pacer.throttled('us-east-1', 'AuthorizeSecurityGroupIngress');
    expect(pacer.reserve('us-east-1', 'RevokeSecurityGroupIngress')).toBe(200);
    expect(pacer.reserve('us-east-1', 'DescribeInstances')).toBe(0);
    expect(pacer.reserve('us-east-1', 'CreateTags')).toBe(0);
  });
});
