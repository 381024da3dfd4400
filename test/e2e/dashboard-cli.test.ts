import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { getWithHost } from '../support/http-host.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sgsync-demo-'));
const running: ChildProcess[] = [];

afterEach(() => {
  for (const proc of running.splice(0)) if (proc.exitCode === null) proc.kill('SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));


const statusWithHost = async (url: string, host: string) => (await getWithHost(url, host)).status;

/** Starts `sgsync ARGS` and resolves once it prints the dashboard's URL. */
function start(args: string[], env: Record<string, string> = {}): Promise<{ proc: ChildProcess; url: string; out: () => string; err: () => string }> {
  const proc = spawn(process.execPath, ['dist/bin/sgsync.js', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  running.push(proc);
  let out = '';
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /sgsync dashboard listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ proc, url: m[1]!, out: () => out, err: () => err });
    });
    proc.once('exit', (code) => reject(new Error(`exited with ${code} before it was ready:\n${out}\n${err}`)));
  });
}

describe('sgsync demo', () => {
  it('plays the whole story, serves the dashboard, and stops cleanly on Ctrl-C', async () => {
    const demo = await start(['demo', '--dashboard-port', '0', '--dir', dir]);
    const text = demo.out();
    for (const step of ['agents registered 5 workers', 'crash: i-', 'stop/start: i-', 'scale-out: 2 more workers', 'stale rules revoked (address-changed, instance-terminated)', 'still blocked by capacity']) {
      expect(text).toContain(step);
    }
    const fleet = await (await fetch(demo.url)).text();
    expect(fleet).toMatch(/data-region="eu-west-1" data-instances="6"/);
    expect(fleet).toContain('s-stale');
    expect(fleet).toContain('s-blocked');
    const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { actor: string; reason: string });
    expect(new Set(audit.map((a) => a.actor))).toEqual(new Set(['agent', 'controller']));
    expect(audit.map((a) => a.reason)).toEqual(expect.arrayContaining(['member', 'instance-terminated', 'address-changed']));

    // The commands it suggests for a second terminal work as printed, from where it was started.
    const suggested = /Look at it from another terminal[^\n]*\n((?: {2}\S[^\n]*\n)+)/.exec(text)?.[1]?.trim().split(/\n\s*/) ?? [];
    expect(suggested).toHaveLength(4);
    const [exported, ...commands] = suggested as [string, ...string[]];
    const codes = commands.map((command) => {
      const env = { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '' };
      const ran = spawnSync('bash', ['-c', `${exported} && ${command}`], { cwd: root, env, encoding: 'utf8' });
      expect(ran.stderr).not.toMatch(/^sgsync:/m);
      return [command.split(' -c ')[0], ran.status];
    });
    // status and plan exit 10: the stopped worker's rule is stale, and one member is blocked.
    expect(codes).toEqual([
      ['npx sgsync inventory', 0],
      ['npx sgsync status', 10],
      ['npx sgsync plan', 10],
    ]);

    // The demo allows "Reconcile now"; its form token makes the POST go through and clears the stale rule.
    const drift = await (await fetch(`${demo.url}/drift`)).text();
    const token = /name="token" value="([^"]+)"/.exec(drift)?.[1];
    const post = await fetch(`${demo.url}/reconcile`, { method: 'POST', body: new URLSearchParams({ token: token ?? '' }), redirect: 'manual' });
    expect(post.status).toBe(303);
    expect(await (await fetch(`${demo.url}/?status=stale`)).text()).toContain('No instances match (of ');

    demo.proc.kill('SIGINT');
    expect(await new Promise<number | null>((r) => demo.proc.once('exit', (c) => r(c)))).toBe(0);
  });
});

describe('sgsync dashboard', () => {
  it('serves a read-only dashboard on a free port with no reconcile endpoint', async () => {
    const demo = await start(['demo', '--dashboard-port', '0', '--dir', join(dir, 'second')]);
    const config = join(dir, 'second', 'sgsync.yaml');
    const dash = await start(['dashboard', '--port', '0', '-c', config], { AWS_ACCESS_KEY_ID: 'sandbox', AWS_SECRET_ACCESS_KEY: 'sandbox' });
    expect(dash.out()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ \(read-only\)/);
    const page = await fetch(dash.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/Showing 1–\d+ of \d+ instances/);
    expect((await fetch(`${dash.url}/reconcile`, { method: 'POST', body: 'token=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(404);
    // A page on another name that resolves to 127.0.0.1 (DNS rebinding) gets nothing.
    expect(await statusWithHost(`${dash.url}/healthz`, 'attacker.example')).toBe(403);
    expect(await statusWithHost(`${dash.url}/healthz`, new URL(dash.url).host)).toBe(200);
    dash.proc.kill('SIGTERM');

    // An --audit-log that is a directory: the Activity page says so at every poll, stderr once, with no stack trace.
    const logDir = await start(['dashboard', '--port', '0', '-c', config, '--audit-log', dir], { AWS_ACCESS_KEY_ID: 'sandbox', AWS_SECRET_ACCESS_KEY: 'sandbox' });
    for (const path of ['/activity', '/fragments/activity', '/fragments/activity']) {
      const res = await fetch(`${logDir.url}${path}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain(`The audit log &quot;${dir}&quot; cannot be read (it is a directory).`);
    }
    expect(logDir.err().match(/cannot be read/g)).toHaveLength(1);
    expect(logDir.err()).not.toMatch(/^\s+at /m);
    logDir.proc.kill('SIGTERM');

    // Reached through a reverse proxy or a tunnel under another name: that name is let in with --allowed-host, and no other.
    const proxied = await start(['dashboard', '--port', '0', '-c', config, '--allowed-host', 'Dash.Example.com', '--allowed-host', 'box.lan'], { AWS_ACCESS_KEY_ID: 'sandbox', AWS_SECRET_ACCESS_KEY: 'sandbox' });
    const port = new URL(proxied.url).port;
    for (const host of ['dash.example.com', `dash.example.com:${port}`, 'box.lan:9000', `localhost:${port}`]) expect([host, await statusWithHost(`${proxied.url}/healthz`, host)]).toEqual([host, 200]);
    expect(await getWithHost(`${proxied.url}/`, `attacker.example:${port}`)).toEqual({
      status: 403,
      body: `This dashboard does not answer to Host "attacker.example:${port}", so that a web page cannot reach it through DNS rebinding. If attacker.example is how you reach it (through a reverse proxy or an SSH tunnel, say), start the dashboard with --allowed-host attacker.example.\n`,
    });
    proxied.proc.kill('SIGTERM');
    demo.proc.kill('SIGTERM');
  });

  it.each(['http://dash.example.com', 'dash.example.com:8080', '*'])('refuses --allowed-host %s as a usage error that says what to give', (name) => {
    const r = spawnSync(process.execPath, ['dist/bin/sgsync.js', 'dashboard', '--allowed-host', name, '-c', 'examples/demo.yaml'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`"${name}" is not a host name or address; give the name as the browser's address bar shows it, without scheme, port or path, such as dash.example.com (every port is accepted).`);
  });

  it('lists --allowed-host in its help', () => {
    const r = spawnSync(process.execPath, ['dist/bin/sgsync.js', 'dashboard', '--help'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout.replace(/\s+/g, ' ')).toMatch(/--allowed-host <name> also answer to this host name/);
  });
});

describe('a port already in use', () => {
  it('is refused with the port and what to do, for the dashboard and the daemon\'s metrics, not a stack trace', async () => {
    const { createServer } = await import('node:net');
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      const config = join(dir, 'busy.yaml');
      writeFileSync(config, 'deployment: x\ntargets:\n  - {name: api, region: us-east-1, groups: [sg-0123456789abcdef0], ports: [443], members: {}}\n');
      const env = { ...process.env, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' };
      for (const [args, option] of [
        [['dashboard', '--port', String(port), '-c', config, '--endpoint', 'http://127.0.0.1:1'], '--port'],
        [['controller', 'run', '--metrics-port', String(port), '-c', config, '--endpoint', 'http://127.0.0.1:1'], '--metrics-port'],
      ] as const) {
        const r = spawnSync(process.execPath, ['dist/bin/sgsync.js', ...args], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
        expect(r.stderr).toBe(`sgsync: 127.0.0.1:${port} is already in use; choose another ${option} (0 picks a free one)\n`);
        expect(r.status).toBe(1);
      }
    } finally {
      taken.close();
    }
  });
});
