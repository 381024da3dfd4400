import { describe, expect, it } from 'vitest';
import { parseLambdaEvent } from './lambda-event.js';

/** An EC2 state-change event as EventBridge delivers it (forwarded events keep their own region). */
function stateChange(state: string, overrides: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: '7bf73129-1428-4cd3-a780-95db273d1602',
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    account: '123456789012',
    time: '2026-01-01T00:00:00Z',
    region: 'ap-southeast-2',
    resources: ['arn:aws:ec2:ap-southeast-2:123456789012:instance/i-0abcdef1234567890'],
    detail: { 'instance-id': 'i-0abcdef1234567890', state },
    ...overrides,
  };
}

describe('reading a Lambda event', () => {
  it('runs a full pass for a scheduled event, from an EventBridge rule or a scheduler input shaped like one', () => {
    expect(parseLambdaEvent({ 'detail-type': 'Scheduled Event', source: 'aws.events', region: 'us-east-1', detail: {} })).toEqual({ kind: 'schedule' });
    expect(parseLambdaEvent({ 'detail-type': 'Scheduled Event', source: 'aws.scheduler', detail: '{}' })).toEqual({ kind: 'schedule' });
  });

  it.each(['running', 'stopping', 'stopped', 'shutting-down', 'terminated'])('runs a pass scoped to the instance of a %s event, in the region the event names', (state) => {
    expect(parseLambdaEvent(stateChange(state))).toEqual({ kind: 'instance', instanceId: 'i-0abcdef1234567890', region: 'ap-southeast-2', state });
  });

  it.each([
    ['a pending instance', stateChange('pending'), /pending; it is admitted when it is running/],
    ['an unknown state', stateChange('rebooting'), /unknown state "rebooting"/],
    ['a malformed instance id', stateChange('running', { detail: { 'instance-id': 'web-1', state: 'running' } }), /valid detail.instance-id \(got "web-1"\)/],
    ['a missing detail', stateChange('running', { detail: undefined }), /valid detail.instance-id \(got none\)/],
    ['a missing region', stateChange('running', { region: undefined }), /without a valid region/],
    ['another kind of event', { 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.ec2' }, /unrecognised event: detail-type "AWS API Call via CloudTrail", source "aws.ec2"/],
    ['a console test event', { key1: 'value1' }, /unrecognised event: detail-type none/],
    ['no object at all', 'ping', /not an object but "ping"/],
    ['null', null, /not an object but null/],
  ])('ignores %s, saying why', (_what, event, reason) => {
    const work = parseLambdaEvent(event);
    expect(work.kind).toBe('ignored');
    expect(work.kind === 'ignored' && work.reason).toMatch(reason);
  });
});
