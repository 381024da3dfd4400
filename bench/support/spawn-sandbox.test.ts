import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Whether a process has ended: gone, or a zombie nobody reaps (a container's PID 1 may not). */
function ended(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * A benchmark process in miniature: it starts a sandbox with `spawnSandbox`,
 * prints the sandbox's pid and URL, and waits for ever.
 */
const parent = `
const { spawnSandbox } = await import('./bench/support/spawn-sandbox.ts');
const sandbox = await spawnSandbox();
process.stdout.write(JSON.stringify({ pid: sandbox.pid, url: sandbox.url }) + '\\n');
setInterval(() => undefined, 60_000);
`;

describe('a sandbox that spawnSandbox started', () => {
  it('ends within seconds when the process that started it is killed with SIGKILL', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', parent], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const started = await new Promise<{ pid: number; url: string }>((resolve, reject) => {
      let out = '';
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(JSON.parse(out) as { pid: number; url: string });
      });
      proc.once('exit', (code) => reject(new Error(`the parent exited with ${code} before the sandbox was listening: ${err}`)));
    });
    try {
      expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(ended(started.pid)).toBe(false);

      proc.kill('SIGKILL');
      for (let i = 0; i < 50 && !ended(started.pid); i++) await new Promise((r) => setTimeout(r, 100));
      expect(ended(started.pid), 'the sandbox outlived its parent by 5 s').toBe(true);
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      if (!ended(started.pid)) process.kill(started.pid, 'SIGKILL');
    }
  }, 60_000);
});
