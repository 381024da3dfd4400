/** `iam policy` and `deploy cloudformation` warn when the policy is too large for a role's inline policies, and say what to do. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runInProcess } from './cli.js';

const DEMO = fileURLToPath(new URL('../../examples/demo.yaml', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sgsync-policy-size-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Eight targets, each with a pool of sixteen groups: a controller policy of some 10,300 characters by ARN. */
const BIG = join(dir, 'big.yaml');
writeFileSync(
  BIG,
  `deployment: big\ntargets:\n${Array.from(
    { length: 8 },
    (_, t) => `  - { name: t${t}, region: us-east-1, groups: [${Array.from({ length: 16 }, (_, g) => `sg-${(t * 100 + g).toString(16).padStart(17, '0')}`).join(', ')}], ports: [443], members: { regions: [eu-west-1] } }`,
  ).join('\n')}\n`,
);

const TOO_BIG = /^warning: the controller policy is 10,3\d\d characters; IAM allows 10,240 in a role's inline policies \(whitespace not counted\) and refuses it with LimitExceeded\./m;

describe('a policy too large for a role', () => {
  it('makes iam policy warn, and point to --scope-by tag', async () => {
    const r = await runInProcess(['iam', 'policy', '--role', 'controller', '-c', BIG, '--account', '123456789012']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(TOO_BIG);
    expect(r.stderr).toContain('Use --scope-by tag, which names each target region once instead of each group (tag the target groups sgsync:deployment=big)');
    expect(JSON.parse(r.stdout)).toMatchObject({ Version: '2012-10-17' });
  });

  it('is no warning once scoped by tag', async () => {
    const r = await runInProcess(['iam', 'policy', '--role', 'controller', '-c', BIG, '--account', '123456789012', '--scope-by', 'tag']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/characters/);
  });

  it('makes deploy cloudformation warn, counting the account the stack will fill in, and say what to do without --scope-by', async () => {
    const r = await runInProcess(['deploy', 'cloudformation', '-c', BIG]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(TOO_BIG);
    expect(r.stderr).toContain("The stack would fail to create the controller's role. deploy cloudformation has no --scope-by: tag the target groups sgsync:deployment=big, print `sgsync iam policy --role controller --scope-by tag`");
  });

  it.each([['iam', 'policy', '--role', 'controller'], ['deploy', 'cloudformation']])('is not said of the demo configuration (%s %s)', async (...command) => {
    const r = await runInProcess([...command, '-c', DEMO, '--account', '123456789012']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/characters/);
  });
});
