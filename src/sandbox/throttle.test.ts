import { describe, expect, it } from 'vitest';
import { Params } from './query.js';
import { classify, formatThrottleMode, parseThrottleMode, Throttle } from './throttle.js';

const params = (body = '') => Params.parse(body);

/** A throttle on a clock the test moves by hand. */
function fakeThrottle(scale = 1) {
  let now = 0;
  const throttle = new Throttle({ kind: 'aws', scale }, () => now);
  const advance = (seconds: number) => (now += seconds * 1000);
  const drain = (region: string, action: string, body = '') => {
    let n = 0;
    while (throttle.take(region, action, params(body))) n++;
    return n;
  };
  return { throttle, advance, drain };
}

describe('classify', () => {
  it.each([
    ['DescribeSecurityGroupRules', 'Filter.1.Name=group-id&Filter.1.Value.1=sg-1', 'non-mutating', 'DescribeSecurityGroupRules'],
    ['DescribeSecurityGroupRules', '', 'non-mutating', 'DescribeSecurityGroupRules'],
    ['DescribeInstances', '', 'unfiltered-unpaginated', 'DescribeInstances:unfiltered'],
    ['DescribeInstances', 'MaxResults=5', 'non-mutating', 'DescribeInstances'],
    ['DescribeInstances', 'InstanceId.1=i-1', 'non-mutating', 'DescribeInstances'],
    ['DescribeSecurityGroups', '', 'unfiltered-unpaginated', 'DescribeSecurityGroups:unfiltered'],
    ['DescribeSecurityGroups', 'GroupId.1=sg-1', 'non-mutating', 'DescribeSecurityGroups'],
    ['AuthorizeSecurityGroupIngress', '', 'resource-intensive', 'AuthorizeRevokeSecurityGroupIngress'],
    ['RevokeSecurityGroupIngress', '', 'resource-intensive', 'AuthorizeRevokeSecurityGroupIngress'],
    ['CreateTags', '', 'CreateTags', 'CreateTags'],
    ['RunInstances', '', 'RunInstances', 'RunInstances'],
    ['TerminateInstances', '', 'TerminateInstances', 'TerminateInstances'],
    ['StopInstances', '', 'mutating', 'StopInstances'],
    ['CreateSecurityGroup', '', 'mutating', 'CreateSecurityGroup'],
  ])('puts %s (%s) in the %s category, bucket %s', (action, body, category, bucket) => {
    expect(classify(action, params(body))).toEqual({ category, bucket });
  });
});

describe('parseThrottleMode', () => {
  it.each([
    ['off', { kind: 'off' }],
    ['aws', { kind: 'aws', scale: 1 }],
    ['aws:10', { kind: 'aws', scale: 10 }],
    ['aws:2.5', { kind: 'aws', scale: 2.5 }],
  ])('reads %s', (text, mode) => {
    expect(parseThrottleMode(text)).toEqual(mode);
    expect(parseThrottleMode(formatThrottleMode(mode as never))).toEqual(mode);
  });

  it.each(['', 'on', 'aws:', 'aws:0', 'aws:-3', 'aws:fast', 'AWS', 'aws:10x'])('refuses %j with a message naming the forms it accepts', (text) => {
    expect(() => parseThrottleMode(text)).toThrow(/expected off, aws or aws:SCALE/);
  });
});

describe('Throttle', () => {
  it.each([
    ['DescribeSecurityGroupRules', '', 100],
    ['DescribeInstances', '', 50],
    ['AuthorizeSecurityGroupIngress', '', 50],
    ['CreateSecurityGroup', '', 50],
    ['CreateTags', '', 100],
    ['RunInstances', '', 5],
    ['TerminateInstances', '', 100],
  ])('lets exactly the burst of %s through, then refuses', (action, body, burst) => {
    const { drain } = fakeThrottle();
    expect(drain('us-east-1', action, body)).toBe(burst);
  });

  it('refills at the category rate as time passes, never beyond the burst', () => {
    const { drain, advance } = fakeThrottle();
    drain('us-east-1', 'AuthorizeSecurityGroupIngress');
    advance(1);
    expect(drain('us-east-1', 'AuthorizeSecurityGroupIngress')).toBe(5);
    advance(3600);
    expect(drain('us-east-1', 'AuthorizeSecurityGroupIngress')).toBe(50);
  });

  it('makes authorize and revoke share one bucket', () => {
    const { throttle, drain } = fakeThrottle();
    expect(drain('us-east-1', 'AuthorizeSecurityGroupIngress')).toBe(50);
    expect(throttle.take('us-east-1', 'RevokeSecurityGroupIngress', params())).toBe(false);
  });

  it('keeps regions and actions apart', () => {
    const { throttle, drain } = fakeThrottle();
    drain('us-east-1', 'DescribeSecurityGroupRules');
    expect(throttle.take('eu-west-1', 'DescribeSecurityGroupRules', params())).toBe(true);
    expect(throttle.take('us-east-1', 'DescribeInstances', params())).toBe(true);
    expect(throttle.take('us-east-1', 'CreateSecurityGroup', params())).toBe(true);
  });

  it('keeps the burst and multiplies the refill with aws:SCALE', () => {
    const { drain, advance } = fakeThrottle(10);
    expect(drain('us-east-1', 'RunInstances')).toBe(5);
    advance(0.1);
    expect(drain('us-east-1', 'RunInstances')).toBe(2);
  });

  it('lets everything through when off', () => {
    const throttle = new Throttle({ kind: 'off' }, () => 0);
    for (let i = 0; i < 1000; i++) expect(throttle.take('us-east-1', 'RunInstances', params())).toBe(true);
  });

  it('reports bucket levels, and refills them when the sandbox clock is advanced', () => {
    const { throttle, drain } = fakeThrottle();
    drain('eu-west-1', 'RunInstances');
    expect(throttle.levels()['eu-west-1']!.RunInstances).toEqual({ category: 'RunInstances', tokens: 0, burst: 5, refillPerSecond: 2 });
    throttle.advance(2000);
    expect(throttle.levels()['eu-west-1']!.RunInstances!.tokens).toBe(4);
  });

  it('starts every bucket full again when the mode changes', () => {
    const { throttle, drain } = fakeThrottle();
    drain('us-east-1', 'RunInstances');
    throttle.mode = { kind: 'aws', scale: 1 };
    expect(drain('us-east-1', 'RunInstances')).toBe(5);
  });
});
