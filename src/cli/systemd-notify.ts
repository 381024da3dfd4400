import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { WatchStatus } from '../agent/watch.js';

/** How often a first registration attempt still running asks systemd for more time. */
export const EXTEND_EVERY_MS = 60_000;

/**
 * How much more time each ask is for: past the next ask, with half a minute
 * to spare for a `systemd-notify` slow to start on a busy instance.
 */
export const EXTEND_BY_MS = 90_000;

/**
 * The longest the start may last with extensions. A first attempt is not
 * bounded as a whole, only call by call (each EC2 call within 5 minutes,
 * retries included, and at most 8 rounds of them): one that makes no
 * headway for this long is as good as hung, and failing the start has
 * systemd restart it (`Restart=on-failure`).
 */
export const START_LIMIT_MS = 15 * 60_000;

export interface SystemdNotifierOptions {
  /** Sends one notification, given as `systemd-notify`'s arguments. */
  send: (args: string[]) => void;
  /** A clock for elapsed time; the default does not jump when the system clock is set at boot. */
  now?: () => number;
  /** Runs `tick` every `ms` until the function it returns is called. */
  every?: (ms: number, tick: () => void) => () => void;
  /** See `START_LIMIT_MS`. */
  limitMs?: number;
}

export interface SystemdNotifier {
  /** The watch's status (`WatchOptions.onStatus`): the first says the service is ready. */
  status: (status: WatchStatus) => void;
  /** Asks for no more time: the watch is stopping, under systemd's TimeoutStopSec= instead. */
  stop: () => void;
}

/** Every `ms`, in a timer that does not keep the process alive. */
function everyUnref(ms: number, tick: () => void): () => void {
  const timer = setInterval(tick, ms);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Tells systemd, under a Type=notify unit, how `agent watch` stands: READY=1
 * with the first status (once the first registration attempt is over,
 * whatever its outcome), then each new STATUS= line, which `systemctl status`
 * shows. Until then, every minute it asks for 90 s more than the unit's
 * TimeoutStartSec= (EXTEND_TIMEOUT_USEC=, systemd 236 and later; older ones
 * ignore it) with a status saying it is still registering: under sustained
 * throttling a first attempt can outlast the timeout while it progresses,
 * and systemd would kill it, deregistering what did land, and start it
 * again into the same throttling. It asks only until the start has lasted
 * `limitMs`, so that one that hangs still fails.
 *
 * Time is counted from when the notifier is made, which is at most a moment
 * after systemd started the process.
 */
export function systemdNotifier(options: SystemdNotifierOptions): SystemdNotifier {
  const now = options.now ?? (() => performance.now());
  const limitMs = options.limitMs ?? START_LIMIT_MS;
  const start = now();
  let ready = false;
  let cancel: (() => void) | undefined;
  const halt = () => {
    cancel?.();
    cancel = undefined;
  };
  cancel = (options.every ?? everyUnref)(EXTEND_EVERY_MS, () => {
    const elapsed = now() - start;
    const left = limitMs - elapsed;
    const running = `--status=registering: the first attempt is still running after ${Math.round(elapsed / 1000)} s`;
    if (left <= 0) {
      halt();
      options.send([`${running}; no longer extending the start timeout`]);
      return;
    }
    // systemd counts each extension from when it is received, and ends the start at the limit.
    options.send([running, `EXTEND_TIMEOUT_USEC=${Math.round(Math.min(EXTEND_BY_MS, left) * 1000)}`]);
  });
  return {
    status: (status) => {
      halt();
      options.send([...(ready ? [] : ['--ready']), `--status=${status.text}`]);
      ready = true;
    },
    stop: halt,
  };
}

/** Sends a notification with `systemd-notify`, which the unit's NotifyAccess=all lets a child process do; a failure is ignored. */
export function systemdNotify(args: string[]): void {
  spawn('systemd-notify', args, { stdio: 'ignore' }).on('error', () => undefined);
}
