import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/bin/sgsync.js');
const work = mkdtempSync(join(tmpdir(), 'sgsync-config-cli-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

function sgsync(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SGSYNC_')));
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: options.cwd ?? root, env: { ...env, ...options.env }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const VALID = `deployment: prod
targets:
  - name: api
    region: us-east-1
    groups: [sg-0123456789abcdef0, sg-0123456789abcdef1]
    ports: [443]
    members: {regions: [eu-west-1], tags: {role: worker}}
`;

const BROKEN = `deployment: prod
targets:
  - name: api
    region: us-east-1
    groups: [sg-0123456789abcdef0]
    ports: [443, "44x"]
    adress: public
    members: {}
`;

describe('sgsync config validate', () => {
  it.each(['hub-and-spoke.yaml', 'two-ports.yaml', 'ipv6.yaml', 'private-peering.yaml', 'demo.yaml'])('accepts examples/%s', (file) => {
    const r = sgsync(['config', 'validate', `examples/${file}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^examples/${file.replace('.', '\\.')}: valid \\(1 target, \\d groups?\\)\\n$`));
  });

  it('lists every problem with file, line and column and exits 3', () => {
    writeFileSync(join(work, 'broken.yaml'), BROKEN);
    const r = sgsync(['config', 'validate', 'broken.yaml'], { cwd: work });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'sgsync: broken.yaml is not a valid configuration (2 problems):\n' +
        'broken.yaml:6:18 targets[0].ports[1]: "44x" is not a port, expected 443, 443/tcp, 8000-8100/udp, icmp, icmpv6, all, or {protocol, port}\n' +
        'broken.yaml:7:5 targets[0].adress: unknown key "adress", did you mean "address"?\n',
    );
  });

  it('gives the verdict as JSON with --json', () => {
    writeFileSync(join(work, 'broken.yaml'), BROKEN);
    const bad = sgsync(['config', 'validate', '--json', 'broken.yaml'], { cwd: work });
    expect(bad.code).toBe(3);
    const verdict = JSON.parse(bad.stdout) as { valid: boolean; issues: { line: number; column: number; path: string }[] };
    expect(verdict.valid).toBe(false);
    expect(verdict.issues.map((i) => [i.line, i.column, i.path])).toEqual([
      [6, 18, 'targets[0].ports[1]'],
      [7, 5, 'targets[0].adress'],
    ]);

    const good = sgsync(['config', 'validate', '--json', 'examples/two-ports.yaml']);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual({ file: 'examples/two-ports.yaml', valid: true, targets: 1, groups: 3, retiredGroups: 0, warnings: [] });
  });

  it('finds ./sgsync.yaml, and prefers $SGSYNC_CONFIG and --config over it', () => {
    writeFileSync(join(work, 'sgsync.yaml'), VALID);
    writeFileSync(join(work, 'broken.yaml'), BROKEN);
    expect(sgsync(['config', 'validate'], { cwd: work }).stdout).toBe('sgsync.yaml: valid (1 target, 2 groups)\n');
    writeFileSync(join(work, 'retiring.yaml'), VALID.replace('    ports: [443]', '    retiredGroups: [sg-0123456789abcdef2]\n    ports: [443]'));
    expect(sgsync(['config', 'validate', 'retiring.yaml'], { cwd: work }).stdout).toBe('retiring.yaml: valid (1 target, 2 groups, 1 retired)\n');
    expect(sgsync(['config', 'validate'], { cwd: work, env: { SGSYNC_CONFIG: 'broken.yaml' } }).code).toBe(3);
    expect(sgsync(['config', 'validate', '--config', 'sgsync.yaml'], { cwd: work, env: { SGSYNC_CONFIG: 'broken.yaml' } }).code).toBe(0);
  });

  it('says where it looked when there is no configuration', () => {
    const empty = mkdtempSync(join(work, 'empty-'));
    const r = sgsync(['config', 'validate'], { cwd: empty });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('no configuration found; tried --config (not given), $SGSYNC_CONFIG (not set) and ./sgsync.yaml');
    expect(r.stderr).toContain('sgsync config validate FILE');
  });

  it('checks an override from the environment too', () => {
    writeFileSync(join(work, 'sgsync.yaml'), VALID);
    const r = sgsync(['config', 'validate'], { cwd: work, env: { SGSYNC_DEPLOYMENT: 'not a name' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('$SGSYNC_DEPLOYMENT deployment: use 1–64 letters, digits, ".", "_" and "-"');
  });
});

describe('sgsync config schema', () => {
  it('prints the JSON Schema that docs/sgsync.schema.json holds', () => {
    const r = sgsync(['config', 'schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema).toEqual(JSON.parse(readFileSync(join(root, 'docs/sgsync.schema.json'), 'utf8')));
  });
});

describe('sgsync writing into a pipe whose reader is gone', () => {
  it('stops quietly with its own exit code instead of crashing on the broken pipe', () => {
    // `true` exits before sgsync has started, so every write of the schema meets a closed pipe.
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${cli}" config schema | true; echo "exit \${PIPESTATUS[0]}" >&2`], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('exit 0\n');
  });
});
