import { constants } from 'node:os';
import type { Logger } from 'pino';

/**
 * The first SIGTERM or SIGINT asks a command to stop as it documents (once
 * the calls under way have landed; after deregistering): `first` is
 * called. A second one, from someone who will not wait, stops the process at
 * once with 130, saying so — calls in flight may then land with no line in
 * the log or the audit log, which is what `consequence` tells them.
 */
export function onStopSignals(log: Pick<Logger, 'warn'>, consequence: string, first: (signal: NodeJS.Signals) => void): void {
  onTwoSignals(first, (signal) => {
    log.warn({ signal }, `second ${signal}: stopping at once; ${consequence}`);
    process.exit(130);
  });
}

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once with 130 (nothing is under way to be cut short). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => onTwoSignals(resolve, () => process.exit(130)));
}

function onTwoSignals(first: (signal: NodeJS.Signals) => void, second: (signal: NodeJS.Signals) => void): void {
  let received = false;
  const on = (signal: NodeJS.Signals) => {
    if (received) return second(signal);
    received = true;
    first(signal);
  };
  process.on('SIGTERM', on);
  process.on('SIGINT', on);
}

/** What a command that applies a pass learns of a stop signal (see `stopPassOnSignals`). */
export interface PassStop {
  /** `PassOptions.shouldStop`: once a signal came, the reason; the pass then starts no further change, and the calls under way finish. */
  shouldStop: () => string | undefined;
  /**
   * The exit code of a command the signal cut short, as a shell reports a
   * program the signal ended: 128 and its number (130 for SIGINT, 143 for
   * SIGTERM), so that a script sees what it saw before the command handled
   * it. Undefined while no signal came.
   */
  exitCode: () => number | undefined;
}

/**
 * The first SIGTERM or SIGINT cuts the pass under way short (it is logged
 * with `message`, then `then` runs); a second stops at once, as
 * `onStopSignals` says. `reconcile` and `controller run` share it.
 */
export function stopPassOnSignals(log: Pick<Logger, 'warn' | 'info'>, message: string, then?: (signal: NodeJS.Signals) => void): PassStop {
  let received: NodeJS.Signals | undefined;
  onStopSignals(log, 'changes in flight may land without an audit line', (signal) => {
    log.info({ signal }, message);
    received = signal;
    then?.(signal);
  });
  return {
    shouldStop: () => (received ? `sgsync was told to stop (${received})` : undefined),
    exitCode: () => (received ? 128 + (constants.signals[received] ?? 0) : undefined),
  };
}
