/**
 * The controller as it runs in production: `sgsync controller run`, one
 * long-lived process of the built CLI. Its passes after the first find the
 * SDK clients made and the code compiled, which a `sgsync reconcile`
 * process never does. Each pass is read from the process's log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PassTimings } from '../../src/controller/report.js';
import { procCpuSeconds, procPeakKb } from './measured-process.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** One pass, as the daemon logs it ("pass done: …"). */
export interface DaemonPass {
  passId: string;
  added: number;
  revoked: number;
  durationMs: number;
  /** Where the pass spent its time, as its log line gives it. */
  timings?: PassTimings;
  /** When the pass ended, by the daemon's clock (ms since the epoch). */
  endedAtMs: number;
  /** Whether it logged "pass done" rather than "pass done with problems". */
  ok: boolean;
  message: string;
}

export class Daemon {
  private readonly passes: DaemonPass[] = [];
  private readonly waiting: ((pass: DaemonPass) => void)[] = [];
  private stderrTail = '';
  private exited: string | undefined;

  private constructor(private readonly proc: ChildProcess) {
    let buffered = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      buffered += text;
      this.stderrTail = (this.stderrTail + text).slice(-4000);
      for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
        this.read(buffered.slice(0, end));
        buffered = buffered.slice(end + 1);
      }
    });
    proc.once('exit', (code, signal) => {
      this.exited = `exited ${code ?? signal}`;
    });
  }

  /**
   * Starts `node dist/bin/sgsync.js controller run -c config --interval S`,
   * with `env` added; the configuration should set `controller.jitterSeconds: 0`
   * so that the next pass starts `intervalS` after the last one ended.
   */
  static start(config: string, intervalS: number, auditLog: string, env: Record<string, string>): Daemon {
    const proc = spawn(process.execPath, ['dist/bin/sgsync.js', 'controller', 'run', '-c', config, '--interval', String(intervalS), '--audit-log', auditLog, '--log-level', 'info'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    });
    return new Daemon(proc);
  }

  private read(line: string): void {
    let entry: { msg?: unknown; passId?: unknown; added?: unknown; revoked?: unknown; durationMs?: unknown; time?: unknown; timings?: DaemonPass['timings'] };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      return;
    }
    if (typeof entry.msg !== 'string' || !entry.msg.startsWith('pass done')) return;
    const pass: DaemonPass = {
      passId: String(entry.passId),
      added: Number(entry.added),
      revoked: Number(entry.revoked),
      durationMs: Number(entry.durationMs),
      ...(entry.timings ? { timings: entry.timings } : {}),
      endedAtMs: Number(entry.time),
      ok: !entry.msg.startsWith('pass done with problems'),
      message: entry.msg,
    };
    const waiter = this.waiting.shift();
    if (waiter) waiter(pass);
    else this.passes.push(pass);
  }

  /** The next pass to end (one already ended and not yet taken first); rejects after `timeoutMs` or when the process exits. */
  nextPass(timeoutMs: number): Promise<DaemonPass> {
    const ended = this.passes.shift();
    if (ended) return Promise.resolve(ended);
    return new Promise((resolve, reject) => {
      const fail = (why: string) => reject(new Error(`sgsync controller run ${why}; its log ends: ${this.stderrTail.trim().slice(-1500)}`));
      if (this.exited) return fail(this.exited);
      const timer = setTimeout(() => fail(`logged no pass within ${timeoutMs / 1000} s`), timeoutMs);
      const onExit = () => {
        clearTimeout(timer);
        fail(this.exited ?? 'exited');
      };
      this.proc.once('exit', onExit);
      this.waiting.push((pass) => {
        clearTimeout(timer);
        this.proc.off('exit', onExit);
        resolve(pass);
      });
    });
  }

  /** CPU seconds the process has used so far (Linux /proc). */
  cpuSeconds(): number | undefined {
    return this.proc.pid === undefined ? undefined : procCpuSeconds(this.proc.pid);
  }

  /** The process's peak resident set so far, in kB (Linux /proc). */
  peakRssKb(): number | undefined {
    return this.proc.pid === undefined ? undefined : procPeakKb(this.proc.pid);
  }

  /** SIGTERM, then waits for the process to exit (it finishes a pass under way first). */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.kill('SIGTERM');
    await exited;
  }
}
