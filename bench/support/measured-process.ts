/**
 * Runs the built CLI (`node dist/bin/sgsync.js …`) as a child process and
 * measures it the way an operator would: wall time, CPU time (user +
 * system) and peak resident memory. With GNU time at /usr/bin/time those
 * come from the kernel's rusage of the process (`%M` is the peak RSS);
 * without it, /proc/<pid> is sampled until exit (VmHWM is the kernel's own
 * high-water mark, so the last sample holds the peak up to that moment).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const GNU_TIME = '/usr/bin/time';

export interface MeasuredRun {
  code: number;
  stdout: string;
  stderr: string;
  wallS: number;
  cpuS: number;
  maxRssKb: number;
  /** How the figures were taken. */
  method: 'gnu-time' | 'proc-sampling';
}

/** Seconds of CPU a process has used so far (utime + stime, in clock ticks of 1/100 s). */
export function procCpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** The process's peak resident set so far (VmHWM), in kB. */
export function procPeakKb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `node dist/bin/sgsync.js ...args` with `env` added, and measures it. */
export function runBuiltCli(args: string[], env: Record<string, string>): Promise<MeasuredRun> {
  return runMeasuredNode(['dist/bin/sgsync.js', ...args], env);
}

/** Runs `node ...nodeArgs` in the package root with `env` added, and measures it. */
export function runMeasuredNode(nodeArgs: string[], env: Record<string, string> = {}): Promise<MeasuredRun> {
  const useTime = existsSync(GNU_TIME);
  const dir = mkdtempSync(join(tmpdir(), 'sgsync-bench-time-'));
  const timeFile = join(dir, 'time.txt');
  const node = [process.execPath, ...nodeArgs];
  const [cmd, ...argv] = useTime ? [GNU_TIME, '-f', '%e %U %S %M', '-o', timeFile, ...node] : node;
  const started = performance.now();
  const proc = spawn(cmd!, argv, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
  });
  let cpu = 0;
  let peak = 0;
  const sample = () => {
    if (useTime || proc.pid === undefined) return;
    cpu = procCpuSeconds(proc.pid) ?? cpu;
    peak = Math.max(peak, procPeakKb(proc.pid) ?? 0);
  };
  const sampler = useTime ? undefined : setInterval(sample, 20);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  proc.stdout.on('data', (d: Buffer) => out.push(d));
  proc.stderr.on('data', (d: Buffer) => err.push(d));
  return new Promise((resolve, reject) => {
    proc.once('error', (e) => {
      clearInterval(sampler);
      rmSync(dir, { recursive: true, force: true });
      reject(new Error(`could not run ${cmd}: ${e.message}`));
    });
    proc.once('close', (code, signal) => {
      clearInterval(sampler);
      const wallS = (performance.now() - started) / 1000;
      let method: MeasuredRun['method'] = 'proc-sampling';
      if (useTime) {
        // GNU time writes "Command exited with non-zero status N" first when the command fails; the figures are the last line.
        const lines = existsSync(timeFile) ? readFileSync(timeFile, 'utf8').trim().split('\n') : [];
        const [, user, system, rss] = (lines.at(-1) ?? '').split(' ').map(Number);
        if (user !== undefined && system !== undefined && rss !== undefined && Number.isFinite(rss)) {
          cpu = user + system;
          peak = rss;
          method = 'gnu-time';
        }
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        wallS,
        cpuS: cpu,
        maxRssKb: peak,
        method,
      });
    });
  });
}
