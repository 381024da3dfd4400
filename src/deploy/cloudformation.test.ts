import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { isSgsyncError } from '../core/errors.js';
import { cloudFormationTemplates, eventRegions, primaryTemplate, scheduleExpression } from './cloudformation.js';

const config = (extra: string, members = '{ regions: [eu-west-1, us-west-2] }') =>
  parseConfig(`deployment: d\ntargets:\n  - { name: t, region: us-east-1, groups: [sg-0aaaaaaaaaaaaaaa1], ports: [443], members: ${members} }\n${extra}`, 'sgsync.yaml');

describe('scheduleExpression', () => {
  it.each([
    [30, 'rate(1 minute)'],
    [60, 'rate(1 minute)'],
    [300, 'rate(5 minutes)'],
    [301, 'rate(6 minutes)'],
  ])('runs a pass every %i seconds as %s', (seconds, expression) => {
    expect(scheduleExpression(seconds)).toBe(expression);
  });
});

describe('eventRegions', () => {
  it.each([
    ['controller.regions, narrowed to the selectors', config('controller: { regions: [us-east-1, eu-west-1, ap-south-1] }'), undefined, ['eu-west-1'], 'controller.regions'],
    ['the selectors when controller.regions is absent', config(''), undefined, ['eu-west-1', 'us-west-2'], 'members.regions'],
    ['--member-regions when nothing lists them', config('', '{}'), ['sa-east-1'], ['sa-east-1'], 'option'],
    ['nothing when nothing lists them', config('', '{}'), undefined, [], 'none'],
  ])('takes %s', (_what, loaded, memberRegions, members, from) => {
    expect(eventRegions({ config: loaded, memberRegions })).toEqual({ primary: 'us-east-1', members, from, ignored: [] });
  });

  it.each([
    ['a member region no target selects', config(''), ['eu-west-1', 'ap-south-1'], ['eu-west-1'], [{ region: 'ap-south-1', why: 'no target selects instances in ap-south-1' }]],
    ['a member region controller.regions leaves out', config('controller: { regions: [eu-west-1] }', '{}'), ['eu-west-1', 'sa-east-1'], ['eu-west-1'], [{ region: 'sa-east-1', why: 'sa-east-1 is not in controller.regions' }]],
  ])('forwards no events from %s, and says so', (_what, loaded, memberRegions, members, ignored) => {
    expect(eventRegions({ config: loaded, memberRegions })).toEqual({ primary: 'us-east-1', members, from: 'option', ignored });
  });

  it.each([
    [{ primaryRegion: 'bogus' }, '--primary-region "bogus"'],
    [{ primaryRegion: '/../../escaped' }, '--primary-region "/../../escaped"'],
    [{ primaryRegion: '' }, '--primary-region ""'],
    [{ memberRegions: ['eu-west-1', 'nope'] }, '--member-regions "nope"'],
    [{ memberRegions: ['eu-west-1', ''] }, '--member-regions ""'],
    [{ memberRegions: ['../eu-west-1'] }, '--member-regions "../eu-west-1"'],
  ])('refuses %j as a usage error that names the value', (given, named) => {
    let error: unknown;
    try {
      eventRegions({ config: config(''), ...given });
    } catch (e) {
      error = e;
    }
    expect(isSgsyncError(error) && error.code).toBe('USAGE');
    expect((error as Error).message).toContain(`${named} is not an AWS region name`);
  });
});

describe('cloudFormationTemplates', () => {
  it('needs no forwarder for the primary region itself', () => {
    const files = cloudFormationTemplates({ config: config('controller: { regions: [us-east-1, eu-west-1] }', '{}'), configYaml: 'x' }).map((t) => t.file);
    expect(files).toEqual(['primary-us-east-1.json', 'forwarder-eu-west-1.json']);
  });

  it('describes the schedule rule by the schedule it has, not by an interval EventBridge cannot keep', () => {
    const rule = primaryTemplate({ config: config('controller: { intervalSeconds: 30 }'), configYaml: 'x' }).Resources.ScheduleRule as unknown as { Properties: { Description: string; ScheduleExpression: string } };
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 minute)');
    expect(rule.Properties.Description).toContain('rate(1 minute)');
    expect(rule.Properties.Description).not.toMatch(/every 30 seconds/);
  });

  it('refuses a configuration larger than Lambda allows in its environment', () => {
    expect(() => primaryTemplate({ config: config(''), configYaml: '#'.repeat(5000) })).toThrow(/4 KB/);
  });
});
