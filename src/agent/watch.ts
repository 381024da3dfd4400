import { isSgsyncError, type SgsyncError } from '../core/errors.js';
import type { Member } from '../core/model.js';
import type { Logger } from 'pino';
import { readSelf, type AgentDeps } from './agent-pass.js';
import { deregister } from './deregister.js';
import { register } from './register.js';

export type WatchEnd = 'spot-notice' | 'lifecycle-terminated' | 'signal';

export interface WatchOptions {
  pollMs: number;
  /** Aborted on SIGTERM/SIGINT: the agent deregisters and returns. */
  signal: AbortSignal;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Called once, when the first registration has landed and is observable (systemd readiness). */
  onReady?: () => void;
}

function addressOf(m: Member): string {
  return [m.publicIpv4 ?? '-', m.privateIpv4 ?? '-', ...m.ipv6].join(' ');
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/**
 * Errors a later poll may see gone: IMDS or AWS hiccups, a pool that was full
 * (the controller frees room), a target that refused the instance (an
 * address may come), IMDS not showing tags (they can be turned on while the
 * instance runs). Watching goes on, so that whatever was authorized is still
 * removed when the instance goes.
 */
function passes(e: unknown): e is SgsyncError {
  return isSgsyncError(e) && (e.retryable || e.code === 'NOT_ON_INSTANCE' || e.code === 'CAPACITY_EXHAUSTED' || e.code === 'REFUSED');
}

/**
 * Registers, then watches what tells an instance it is about to go: the spot
 * interruption notice, the Auto Scaling lifecycle state `Terminated`, and a
 * stop signal; each makes it deregister and return. A new address (an Elastic
 * IP associated, say) makes it register again. What may pass (see `passes`)
 * is logged and tried again on the next poll, and the watch is ready only
 * once the instance is admitted everywhere it is selected; only a terminal
 * error (permission, configuration, a group AWS does not know) ends the
 * watch with that error.
 */
export async function watch(deps: AgentDeps, options: WatchOptions): Promise<WatchEnd> {
  const { log, signal } = options;
  let self: Member | undefined;
  while (!self && !signal.aborted) {
    try {
      const result = await register(deps, { wait: true });
      self = result.self;
      log.info({ instance: self.instanceId, address: addressOf(self), targets: result.targets, added: result.changes.length }, 'registered');
      options.onReady?.();
    } catch (e) {
      if (!passes(e)) throw e;
      log.warn({ code: e.code }, `registration failed, retrying: ${e.message}`);
      await pause(options.pollMs, signal);
    }
  }

  for (;;) {
    if (signal.aborted) {
      log.info('stop signal received: deregistering');
      await deregister(deps, self);
      log.info('deregistered');
      return 'signal';
    }
    try {
      const notice = await deps.instance.spotNotice();
      if (notice) {
        log.info({ action: notice.action, time: notice.time }, 'spot interruption notice: deregistering');
        await deregister(deps, self);
        log.info('deregistered');
        return 'spot-notice';
      }
      const lifecycle = await deps.instance.lifecycleState();
      if (lifecycle?.startsWith('Terminated')) {
        log.info({ lifecycle }, 'Auto Scaling lifecycle state is Terminated: deregistering');
        await deregister(deps, self);
        log.info('deregistered');
        return 'lifecycle-terminated';
      }
      const now = await readSelf(deps);
      if (self && addressOf(now) !== addressOf(self)) {
        log.info({ from: addressOf(self), to: addressOf(now) }, 'address changed: registering again');
        const result = await register(deps, { wait: true });
        self = result.self;
        log.info({ added: result.changes.filter((c) => c.action === 'authorize').length, removed: result.changes.filter((c) => c.action === 'revoke').length }, 'registered');
      }
    } catch (e) {
      if (isSgsyncError(e) && !passes(e)) throw e;
      log.warn(`poll failed, trying again in ${options.pollMs} ms: ${e instanceof Error ? e.message : String(e)}`);
    }
    await pause(options.pollMs, signal);
  }
}
