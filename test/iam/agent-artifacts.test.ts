/** `sgsync agent cloud-init` and `agent systemd-unit`, run as a user would: what they print, and what they refuse. */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runInProcess } from './cli.js';

const DEMO = fileURLToPath(new URL('../../examples/demo.yaml', import.meta.url));

/** The commands user data runs, in order. */
const runcmd = (userData: string) => (parse(userData) as { runcmd: unknown[] }).runcmd;

describe('sgsync agent cloud-init', () => {
  it("installs the distribution's Node.js, when node is missing, unless told otherwise", async () => {
    const r = await runInProcess(['agent', 'cloud-init', '-c', DEMO]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(runcmd(r.stdout)[0]).toEqual(['sh', '-c', expect.stringMatching(/^command -v node >\/dev\/null \|\| dnf install -y nodejs npm/) as string]);
  });

  it('runs the --node-setup command instead, exactly as given, before sgsync is installed', async () => {
    const setup = `curl -fsSL "https://mirror.example.com/node-v22.12.0-linux-x64.tar.xz" | tar -xJ -C /usr/local --strip-components=1 && node -e 'process.exit(0)'`;
    const r = await runInProcess(['agent', 'cloud-init', '-c', DEMO, '--node-setup', setup]);
    expect(r.exitCode, r.stderr).toBe(0);
    const commands = runcmd(r.stdout);
    expect(commands[0]).toEqual(['sh', '-c', setup]);
    expect(JSON.stringify(commands[1])).toContain('npm install --global');
  });
});

describe('sgsync agent systemd-unit', () => {
  it('writes a % in --binary and --config-path as %%, which systemd reads as the % it is', async () => {
    const r = await runInProcess(['agent', 'systemd-unit', '--binary', '/bin/tr%ue', '--config-path', '/etc/a%Z.yaml']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('\nExecStart=/bin/tr%%ue agent watch --notify-systemd\n');
    expect(r.stdout).toContain('\nEnvironment=SGSYNC_CONFIG=/etc/a%%Z.yaml\n');
  });

  it.each([['foo/bar'], ['worker@']])('refuses --before %s, which is no unit systemd would order itself after, with exit 2', async (before) => {
    const r = await runInProcess(['agent', 'systemd-unit', '--before', 'nginx', before]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`sgsync: --before "${before}" is not a systemd unit name.`);
  });

  it.each([
    [['--binary', 'sgsync'], '--binary "sgsync" is not an absolute path'],
    [['--config-path', 'etc/sgsync.yaml'], '--config-path "etc/sgsync.yaml" is not an absolute path'],
    [['--binary', '/opt/my sgsync'], '--binary "/opt/my sgsync" cannot go in a systemd unit'],
    [['--config-path', '/etc/sgsync\n.yaml'], '--config-path "/etc/sgsync\\n.yaml" cannot go in a systemd unit'],
  ])('refuses %j with exit 2, printing nothing', async (args, message) => {
    const r = await runInProcess(['agent', 'systemd-unit', ...args]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`sgsync: ${message}`);
  });

  it('refuses the same --before in user data', async () => {
    const r = await runInProcess(['agent', 'cloud-init', '-c', DEMO, '--before', 'foo/bar']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('sgsync: --before "foo/bar" is not a systemd unit name.');
  });
});
