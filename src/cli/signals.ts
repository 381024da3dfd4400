import type { Logger } from 'pino';

/**
 * The first SIGTERM or SIGINT asks a long-running command to stop as it
 * documents (after the pass under way; after deregistering): `first` is
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
