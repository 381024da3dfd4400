import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Faults, faultsConfigSchema, loadFaultsFile, type FaultsConfig } from './faults.js';

const config = (rules: unknown[], seed?: number): FaultsConfig => faultsConfigSchema.parse({ rules, seed });

function faultsWith(rules: unknown[], seed = 7): Faults {
  const faults = new Faults(seed);
  faults.set(config(rules));
  return faults;
}

/** The fates of `n` calls, as short strings. */
function fates(faults: Faults, action: string, region: string, n: number): string[] {
  return Array.from({ length: n }, () => {
    const d = faults.decide(action, region);
    return d?.drop ? 'drop' : (d?.error?.code ?? (d?.latencyMs ? `slow ${d.latencyMs}` : 'ok'));
  });
}

describe('Faults', () => {
  it('answers normally when there are no rules', () => {
    expect(new Faults(1).decide('DescribeInstances', 'us-east-1')).toBeUndefined();
  });

  it('repeats the same fates for the same seed, rules and calls', () => {
    const rules = [{ action: '*', internalErrorRate: 0.2, unavailableRate: 0.2, dropRate: 0.1 }];
    const first = fates(faultsWith(rules), 'AuthorizeSecurityGroupIngress', 'us-east-1', 200);
    expect(fates(faultsWith(rules), 'AuthorizeSecurityGroupIngress', 'us-east-1', 200)).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['ok', 'InternalError', 'Unavailable', 'drop']));
    expect(fates(faultsWith(rules, 8), 'AuthorizeSecurityGroupIngress', 'us-east-1', 200)).not.toEqual(first);
  });

  it('gives each action its own stream, so interleaving other calls changes nothing', () => {
    const rules = [{ internalErrorRate: 0.5 }];
    const alone = fates(faultsWith(rules), 'RevokeSecurityGroupIngress', 'eu-west-1', 50);
    const mixed = faultsWith(rules);
    const interleaved = Array.from({ length: 50 }, () => {
      mixed.decide('DescribeInstances', 'eu-west-1');
      return fates(mixed, 'RevokeSecurityGroupIngress', 'eu-west-1', 1)[0];
    });
    expect(interleaved).toEqual(alone);
  });

  it('restarts the streams when the rules are set again', () => {
    const faults = faultsWith([{ unavailableRate: 0.5 }]);
    const first = fates(faults, 'CreateTags', 'us-east-1', 30);
    faults.set(faults.current);
    expect(fates(faults, 'CreateTags', 'us-east-1', 30)).toEqual(first);
  });

  it.each([
    ['AuthorizeSecurityGroupIngress', 'us-east-1', true],
    ['RevokeSecurityGroupIngress', 'us-east-1', false],
    ['AuthorizeSecurityGroupIngress', 'eu-west-1', false],
  ])('matches a rule by action and region: %s in %s → %s', (action, region, hit) => {
    const faults = faultsWith([{ action: 'Authorize*', region: 'us-*', error: { code: 'UnauthorizedOperation' } }]);
    expect(faults.decide(action, region)?.error !== undefined).toBe(hit);
  });

  it.each([
    [{ code: 'UnauthorizedOperation' }, 403, 'You are not authorized to perform this operation.'],
    [{ code: 'RequestLimitExceeded' }, 503, 'Request limit exceeded.'],
    [{ code: 'InvalidGroup.NotFound' }, 400, "The sandbox's fault rules answered InvalidGroup.NotFound."],
    [{ code: 'Teapot', status: 418, message: 'short and stout' }, 418, 'short and stout'],
  ])('answers the given error %j with status %i', (error, status, message) => {
    const decision = faultsWith([{ error }]).decide('DescribeInstances', 'us-east-1');
    expect(decision?.error).toEqual({ code: error.code, status, message });
  });

  it('adds latency within the jitter, summed over matching rules', () => {
    const faults = faultsWith([{ latencyMs: 100, jitterMs: 50 }, { action: 'Describe*', latencyMs: 1000 }]);
    for (let i = 0; i < 100; i++) {
      const ms = faults.decide('DescribeInstances', 'us-east-1')!.latencyMs!;
      expect(ms).toBeGreaterThanOrEqual(1100);
      expect(ms).toBeLessThanOrEqual(1150);
    }
    expect(faults.decide('CreateTags', 'us-east-1')!.latencyMs).toBeLessThanOrEqual(150);
  });

  it('lets the first rule that fires decide the answer', () => {
    const faults = faultsWith([{ dropRate: 1 }, { error: { code: 'UnauthorizedOperation' } }]);
    expect(faults.decide('CreateTags', 'us-east-1')).toEqual({ drop: true });
  });
});

describe('IMDS faults and read lag', () => {
  it('leave IMDS alone when no imds section is set', () => {
    expect(faultsWith([]).decideImds()).toEqual({ drop: false, latencyMs: 0 });
  });

  it('drop IMDS requests while down and delay them by latency plus jitter', () => {
    const faults = new Faults(7);
    faults.set(faultsConfigSchema.parse({ rules: [], imds: { down: true, latencyMs: 100, jitterMs: 20 } }));
    for (let i = 0; i < 50; i++) {
      const d = faults.decideImds();
      expect(d.drop).toBe(true);
      expect(d.latencyMs).toBeGreaterThanOrEqual(100);
      expect(d.latencyMs).toBeLessThanOrEqual(120);
    }
  });

  it('move the token epoch on each time rejectTokens is set, and only then', () => {
    const faults = new Faults(7);
    faults.set(faultsConfigSchema.parse({ rules: [], imds: { latencyMs: 1 } }));
    expect(faults.tokenEpoch).toBe(0);
    faults.setImds({ down: false, latencyMs: 0, jitterMs: 0, rejectTokens: true });
    faults.set(faultsConfigSchema.parse({ rules: [], imds: { rejectTokens: true } }));
    expect(faults.tokenEpoch).toBe(2);
  });

  it('change only the IMDS section with setImds, keeping the EC2 rules', () => {
    const faults = faultsWith([{ action: 'CreateTags', dropRate: 1 }]);
    faults.setImds({ down: true, latencyMs: 0, jitterMs: 0, rejectTokens: false });
    expect(faults.current.rules).toHaveLength(1);
    expect(faults.decide('CreateTags', 'us-east-1')).toEqual({ drop: true });
  });

  it('turn the read lag into milliseconds, 0 when unset', () => {
    const faults = new Faults(7);
    expect(faults.instanceReadLagMs).toBe(0);
    faults.set(faultsConfigSchema.parse({ rules: [], readLag: { instancesSeconds: 2.5 } }));
    expect(faults.instanceReadLagMs).toBe(2500);
  });
});

describe('faults file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgsync-faults-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('loads a valid file with defaults filled in', () => {
    const path = file('ok.json', JSON.stringify({ seed: 3, rules: [{ action: 'RunInstances', dropRate: 0.5 }] }));
    expect(loadFaultsFile(path)).toEqual({
      seed: 3,
      rules: [{ action: 'RunInstances', region: '*', internalErrorRate: 0, unavailableRate: 0, latencyMs: 0, jitterMs: 0, dropRate: 0.5 }],
    });
  });

  it.each([
    ['bad-json.json', '{ rules: [] }', /faults file .*bad-json\.json is not valid JSON/],
    ['rate.json', '{"rules":[{"dropRate":2}]}', /faults file .*rate\.json is invalid: rules\[0\]\.dropRate: Too big/],
    ['typo.json', '{"rules":[{"dropRatio":0.1}]}', /rules\[0\]: Unrecognized key: "dropRatio"/],
    ['no-rules.json', '{}', /rules: /],
    ['code.json', '{"rules":[{"error":{"code":"not a code!"}}]}', /rules\[0\]\.error\.code: an error code/],
  ])('refuses %s with a message naming the file and the problem', (name, text, message) => {
    expect(() => loadFaultsFile(file(name, text))).toThrow(message);
  });

  it('says when the file cannot be read', () => {
    expect(() => loadFaultsFile(join(dir, 'missing.json'))).toThrow(/cannot read faults file .*missing\.json: ENOENT/);
  });
});
