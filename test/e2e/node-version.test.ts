/**
 * The shipped `sgsync` refuses a Node.js older than it needs with a message
 * that says so, instead of failing somewhere in its dependencies. The Node
 * running the suite is made to report an old version before sgsync starts.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/bin/sgsync.js');

function sgsyncOnNode(version: string | undefined, args: string[]) {
  const pretend = version === undefined ? [] : ['--import', `data:text/javascript,Object.defineProperty(process.versions,"node",{value:"${version}"})`];
  const r = spawnSync(process.execPath, [...pretend, cli, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sgsync on an old Node.js', () => {
  it.each(['18.20.4', '20.18.0'])('on %s, says which Node it needs and exits 1, whatever the command', (version) => {
    for (const args of [['--version'], ['agent', 'register'], ['iam', 'policy', '--role', 'readonly', '-c', 'examples/demo.yaml']]) {
      const r = sgsyncOnNode(version, args);
      expect(r).toEqual({
        code: 1,
        stdout: '',
        stderr: `sgsync needs Node.js 20.19 or newer; this is Node.js ${version}. Install a newer Node.js (the current LTS release, or your distribution's newer nodejs package) and run sgsync with it.\n`,
      });
    }
  });

  it('runs as before on the Node of this suite', () => {
    expect(sgsyncOnNode(undefined, ['--version'])).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
  });
});
