/**
 * Hostile sgsync.yaml: whatever the text, loading it either yields a
 * configuration or throws the documented CONFIG_INVALID error (exit 3) that
 * names file, line and column — never a raw TypeError, never a hang, and never
 * a change to Object.prototype.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig, MAX_ISSUE_LINES, parseConfig, type ConfigIssue, type LoadedConfig } from '../../src/config/index.js';
import { SgsyncError } from '../../src/core/errors.js';

const FILE = 'sgsync.yaml';
const VALID = [
  'deployment: prod',
  'targets:',
  '  - name: api',
  '    region: us-east-1',
  '    groups: [sg-0a1b2c3d4e5f60718, sg-0a1b2c3d4e5f60719]',
  '    ports: [443, 8000-8100/udp]',
  '    families: [ipv4, ipv6]',
  '    members:',
  '      regions: [eu-west-1]',
  '      tags: {role: worker}',
  'safety: {graceSeconds: 300}',
  '',
].join('\n');
const EXAMPLES = ['demo', 'hub-and-spoke', 'ipv6', 'private-peering', 'two-ports'].map((n) => readFileSync(new URL(`../../examples/${n}.yaml`, import.meta.url), 'utf8'));

type Outcome = { ok: LoadedConfig } | { error: SgsyncError };

/** Parses, and insists that a failure is the documented one. */
function load(text: string, env: Record<string, string> = {}): Outcome {
  try {
    return { ok: parseConfig(text, FILE, env) };
  } catch (e) {
    expect(e, `threw ${String(e)}`).toBeInstanceOf(SgsyncError);
    const err = e as SgsyncError;
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).not.toMatch(/TypeError|ReferenceError|RangeError|\n\s+at /);
    const issues = err.details.issues as ConfigIssue[];
    expect(issues.length).toBeGreaterThan(0);
    // One line per problem, the first MAX_ISSUE_LINES of them, then one that counts the rest.
    const more = issues.length > MAX_ISSUE_LINES ? 1 : 0;
    expect(err.message.split('\n')).toHaveLength(Math.min(issues.length, MAX_ISSUE_LINES) + more + 1);
    for (const issue of issues) {
      if (issue.where.startsWith('$')) continue;
      expect(issue.line).toBeGreaterThanOrEqual(1);
      expect(issue.column).toBeGreaterThanOrEqual(1);
      expect(issue.where).toBe(`${FILE}:${issue.line}:${issue.column}`);
    }
    return { error: err };
  }
}

function refused(text: string, env?: Record<string, string>): ConfigIssue[] {
  const out = load(text, env);
  if ('ok' in out) throw new Error(`expected ${JSON.stringify(text.slice(0, 80))} to be refused`);
  return out.error.details.issues as ConfigIssue[];
}

/** A document that expands to 9^depth strings from a few hundred bytes. */
function billionLaughs(depth: number): string {
  const lines = ['l0: &l0 "lol"'];
  for (let i = 1; i <= depth; i++) lines.push(`l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\n`;
}

afterEach(() => {
  expect(Object.prototype).not.toHaveProperty('polluted');
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

describe('a hostile configuration', () => {
  it.each<[string, string, RegExp]>([
    ['an alias bomb (billion laughs)', billionLaughs(9), /^YAML: Excessive alias count/],
    ['a hundred and one aliases of one scalar', `a: &a x\nb: [${Array(101).fill('*a').join(', ')}]\n${VALID}`, /alias/],
    ['an alias whose anchor comes later', `deployment: *later\nx: &later prod\n`, /Unresolved alias/],
    ['a sequence nested five thousand deep', `deployment: ${'['.repeat(5_000)}${']'.repeat(5_000)}\n`, /^YAML: /],
    ['a mapping nested three thousand deep', Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i)}k:`).join('\n'), /^YAML: /],
    ['an unclosed flow sequence', 'targets: [\n', /^YAML: /],
    ['tabs as indentation', 'targets:\n\t- name: api\n', /^YAML: /],
    ['a duplicate key', `${VALID}deployment: other\n`, /unique/],
    ['a NUL byte', `${VALID}\u0000\n`, /^YAML: /],
    ['a lone surrogate and a byte-order mark in the middle', `deployment: prod\ud800\n\ufefftargets: []\n`, /./],
    ['a scalar document', '42', /expected a mapping/],
    ['a list document', '- deployment: prod\n', /expected a mapping/],
    ['a JavaScript function tag', `deployment: !!js/function "function () { globalThis.polluted = 1 }"\n`, /./],
    ['a binary tag', 'deployment: !!binary aGVsbG8=\n', /./],
    ['a set', '!!set {deployment, targets}\n', /required/],
    ['a complex key', `? [a, b]\n: c\n${VALID}`, /unknown key/],
    ['markup in every string', VALID.replace('prod', '"<script>alert(1)</script>"').replace('api', '"<img src=x onerror=alert(1)>"'), /letters/],
    ['right-to-left overrides and emoji in a name', VALID.replace('name: api', 'name: "api\u202egnp.exe🙂"'), /letters/],
    ['a five-megabyte deployment name', VALID.replace('prod', 'x'.repeat(5_000_000)), /1–64/],
    ['a port of 10^30', VALID.replace('[443, ', '[1000000000000000000000000000000, '), /not a port/],
    ['a port of NaN', VALID.replace('[443, ', '[.nan, '), /not a port/],
    ['a negative infinite grace', VALID.replace('graceSeconds: 300', 'graceSeconds: -.inf'), /./],
    ['a quota as a string', VALID.replace('families:', 'quota: "60"\n    families:'), /number|integer/],
    ['two thousand empty targets', `deployment: prod\ntargets:\n${'  - {}\n'.repeat(2_000)}`, /required/],
  ])('refuses %s with a located CONFIG_INVALID error', (_what, text, message) => {
    const issues = refused(text);
    expect(issues.map((i) => i.message).join('\n')).toMatch(message);
  });

  it.each([
    ['at the top', `__proto__: {polluted: true}\n${VALID}`, '__proto__'],
    ['in a tag selector, where it would silently select everyone', VALID.replace('{role: worker}', '{__proto__: [worker]}'), 'targets[0].members.tags.__proto__'],
    ['in the agent tags', `${VALID}agent: {tagsFrom: config, tags: {__proto__: {polluted: true}}}\n`, 'agent.tags.__proto__'],
    ['through a merge key', `base: &base {__proto__: {polluted: true}}\n<<: *base\n${VALID}`, '__proto__'],
  ])('refuses a __proto__ key %s, pointing at it', (_where, text, path) => {
    const issues = refused(text);
    const issue = issues.find((i) => i.path === path);
    expect(issue?.message).toContain('__proto__');
  });

  it('takes constructor and prototype as the ordinary tag keys they are', () => {
    const out = load(VALID.replace('{role: worker}', '{constructor: [a], prototype: [b]}'));
    expect('ok' in out && out.ok.targets[0]?.selector.tags).toEqual({ constructor: ['a'], prototype: ['b'] });
  });

  it('reports an environment override by its variable, not a line', () => {
    const issues = refused(VALID, { SGSYNC_DEPLOYMENT: '<script>', SGSYNC_ENDPOINT: 'javascript:alert(1)' });
    expect(issues.map((i) => i.where).sort()).toEqual(['$SGSYNC_DEPLOYMENT', '$SGSYNC_ENDPOINT']);
  });
});

describe('random text as a configuration', () => {
  it('is either a configuration or a located CONFIG_INVALID error', () => {
    const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: fc.constantFrom(...'{}[]:-&*!|>\'"#%@`,? \n\t'), maxLength: 200 }));
    fc.assert(fc.property(text, (t) => void load(t)), { numRuns: 250 });
  });

  it('survives every small mutation of a valid file', () => {
    const mutation = fc.record({
      example: fc.nat(EXAMPLES.length),
      at: fc.nat(),
      cut: fc.nat(8),
      insert: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('&a ', '*a', '<<: ', '\t', '\n', ': ', '- ', '!!str ', '{', ']', '"', '__proto__: ', '\u0000')),
    });
    fc.assert(
      fc.property(mutation, ({ example, at, cut, insert }) => {
        const base = example === EXAMPLES.length ? VALID : (EXAMPLES[example] as string);
        const i = at % (base.length + 1);
        load(base.slice(0, i) + insert + base.slice(i + cut));
      }),
      { numRuns: 250 },
    );
  });

  it('survives any value of any type at any key', () => {
    const parsed = load(VALID);
    if (!('ok' in parsed)) throw new Error('the base configuration must be valid');
    const paths = ['deployment', 'targets', 'targets.0', 'targets.0.name', 'targets.0.region', 'targets.0.groups', 'targets.0.groups.0', 'targets.0.ports', 'targets.0.ports.0', 'targets.0.families', 'targets.0.address', 'targets.0.quota', 'targets.0.members', 'targets.0.members.regions', 'targets.0.members.tags', 'targets.0.members.tags.role', 'safety', 'safety.revokeLimit', 'safety.revokeLimit.fraction', 'agent', 'agent.tags', 'controller', 'controller.regions', 'controller.metricsPort', 'aws', 'aws.endpoint', 'aws.profile'];
    const junk = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(1e308, -1, 0.5, 2 ** 53 + 1, '', ' ', '\u202e', '<b>', 'sg-', 'us-east-1 ', '65536', '0x1bb', '1e3'));
    fc.assert(
      fc.property(fc.constantFrom(...paths), junk, (path, value) => {
        const doc = JSON.parse(JSON.stringify(parsed.ok.config)) as Record<string, unknown>;
        const keys = path.split('.');
        let node: Record<string, unknown> = doc;
        for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
        node[keys[keys.length - 1] as string] = value;
        load(stringify(doc));
      }),
      { numRuns: 250 },
    );
  });
});

describe('a configuration file that cannot be read as text', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgsync-fuzz-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['a directory', () => dir],
    ['a missing file', () => join(dir, 'missing.yaml')],
    ['random bytes', () => (writeFileSync(join(dir, 'random.yaml'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))), join(dir, 'random.yaml'))],
    ['UTF-16 text', () => (writeFileSync(join(dir, 'utf16.yaml'), Buffer.from(`\ufeff${VALID}`, 'utf16le')), join(dir, 'utf16.yaml'))],
  ])('refuses %s with CONFIG_INVALID', async (_what, path) => {
    const err = await loadConfig({ configPath: path(), env: {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SgsyncError);
    expect((err as SgsyncError).code).toBe('CONFIG_INVALID');
  });
});
