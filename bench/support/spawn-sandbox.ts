/**
 * Starts `sgsync sandbox` as its own process, so that the process being
 * measured never shares a heap or an event loop with the server it talks to,
 * and resolves once the sandbox prints its "listening on" line. The sandbox
 * ends when this process does, even killed with SIGKILL or crashed, so a
 * benchmark that dies leaves no server behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface SpawnedSandbox {
  url: string;
  pid: number;
  proc: ChildProcess;
  /** SIGTERM, then resolves when the process has exited. */
  stop: () => Promise<void>;
}

export interface SpawnSandboxOptions {
  /** Extra `sgsync sandbox` options, e.g. `['--throttle', 'aws:20', '--seed', '3']`. */
  args?: string[];
  /** Run the built CLI (dist/) instead of the sources through tsx: less memory and a faster start. */
  built?: boolean;
  /** Give up when the line has not appeared after this long. */
  timeoutMs?: number;
}

/**
 * Spawns the sandbox on a free port (`--port 0`) and waits for
 * `sgsync sandbox listening on URL`. Rejects with the exit code and stderr
 * when it exits first, or when it does not answer in time.
 */
export function spawnSandbox(options: SpawnSandboxOptions = {}): Promise<SpawnedSandbox> {
  const entry = options.built ? ['dist/bin/sgsync.js'] : ['--import', 'tsx', 'src/cli/main.ts'];
  // The pipe on its stdin stays open as long as this process lives, however it ends: --exit-with-stdin makes the sandbox end with it.
  const proc = spawn(process.execPath, [...entry, 'sandbox', '--port', '0', '--exit-with-stdin', ...(options.args ?? [])], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
  };
  return new Promise<SpawnedSandbox>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`the sandbox did not print its "listening on" line within ${(options.timeoutMs ?? 60_000) / 1000} s${err ? `; stderr: ${err.trim()}` : ''}`));
    }, options.timeoutMs ?? 60_000);
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, pid: proc.pid!, proc, stop });
      }
    });
    // Kept for the error message; the sandbox logs little, so this stays small.
    proc.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the sandbox exited (${signal ?? `code ${code}`}) before it was listening${err ? `: ${err.trim()}` : ''}`));
    });
    proc.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`the sandbox could not be started: ${e.message}`));
    });
  });
}
