import { isSgsyncError, messageOf, type SgsyncError } from '../core/errors.js';
import { changeCounts } from '../core/reconcile.js';
import type { Member } from '../core/model.js';
import type { Logger } from 'pino';
import { addressesText, readSelf, targetsFor, type AgentDeps } from './agent-pass.js';
import { AuthorizedRules, revokeAuthorized } from './authorized-rules.js';
import { deregister } from './deregister.js';
import { register } from './register.js';

export type WatchEnd = 'spot-notice' | 'lifecycle-terminated' | 'signal';

export interface WatchOptions {
  pollMs: number;
  /** Aborted on SIGTERM/SIGINT: the agent deregisters and returns. */
  signal: AbortSignal;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  /**
   * Told how the instance stands once the first registration attempt is
   * over, whatever its outcome (systemd readiness), and again whenever that
   * changes (systemd's STATUS=): a unit that waited for the instance to be
   * admitted everywhere would be killed at its start timeout, deregistering
   * the rules that did land, and restarted for ever, while the watch is
   * exactly what keeps trying.
   */
  onStatus?: (status: WatchStatus) => void;
}

/** How the instance stands, in one line. */
export interface WatchStatus {
  /** Admitted everywhere it is selected, and the rules observable. */
  admitted: boolean;
  text: string;
}

function addressOf(m: Member): string {
  return [m.publicIpv4 ?? '-', m.privateIpv4 ?? '-', ...m.ipv6].join(' ');
}

/**
 * What the instance's rules depend on: its addresses and the targets whose
 * selectors pick it. Either may change while it runs (an Elastic IP
 * associated; a tag changed, which IMDS shows at once), and a change calls
 * for another register pass.
 */
interface Standing {
  address: string;
  targets: string;
}

function standingOf(m: Member, deps: AgentDeps): Standing {
  return { address: addressOf(m), targets: targetsFor(m, deps.config.targets).map((t) => t.name).join(', ') };
}

/** How the instance's standing changed, for the log; undefined when it did not. */
function changeOf(from: Standing | undefined, to: Standing): Record<string, string> | undefined {
  if (from === undefined) return {};
  const change: Record<string, string> = {};
  if (from.address !== to.address) Object.assign(change, { fromAddress: from.address, toAddress: to.address });
  if (from.targets !== to.targets) Object.assign(change, { fromTargets: from.targets || 'none', toTargets: to.targets || 'none' });
  return Object.keys(change).length > 0 ? change : undefined;
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
 * Whether an Auto Scaling target lifecycle state means the instance is going:
 * `Terminated`, or `Warmed:Terminated` for an instance of a warm pool (the
 * other `Warmed:*` states keep it, stopped or running, for later use).
 */
export function isTerminatedState(state: string | undefined): boolean {
  return state !== undefined && state.replace(/^Warmed:/, '').startsWith('Terminated');
}

/**
 * Why the instance is about to go, when IMDS says it is: a spot interruption
 * notice, or the Auto Scaling target lifecycle state `Terminated` (see
 * `isTerminatedState`).
 */
async function departure(deps: AgentDeps, log: WatchOptions['log']): Promise<WatchEnd | undefined> {
  const notice = await deps.instance.spotNotice();
  if (notice) {
    log.info({ action: notice.action, time: notice.time }, 'spot interruption notice: deregistering');
    return 'spot-notice';
  }
  const lifecycle = await deps.instance.lifecycleState();
  if (isTerminatedState(lifecycle)) {
    log.info({ lifecycle }, `Auto Scaling lifecycle state is ${lifecycle}: deregistering`);
    return 'lifecycle-terminated';
  }
  return undefined;
}

/**
 * Registers, then watches what tells an instance it is about to go: the spot
 * interruption notice, the Auto Scaling lifecycle state `Terminated`, and a
 * stop signal; each makes it deregister and return. Every poll looks for
 * them, whether or not the instance has been admitted yet: a registration
 * that keeps failing for one target may have admitted it to others, and
 * those rules must go with the instance. A new address (an Elastic IP
 * associated, say) or a new set of targets that select it (its tags
 * changed) makes it register again. What may pass (see `passes`) is
 * logged and tried again on the next poll; the watch reports how the
 * instance stands after the first attempt and at each change (`onStatus`).
 * Only a terminal error (permission, configuration, a group AWS does not
 * know) ends the watch with that error.
 */
export async function watch(deps: AgentDeps, options: WatchOptions): Promise<WatchEnd> {
  const { log, signal } = options;
  // The instance as last read, and its standing when last admitted (undefined: not admitted yet).
  let self: Member | undefined;
  let admitted: Standing | undefined;
  let status: WatchStatus | undefined;
  const report = (next: WatchStatus) => {
    if (next.text === status?.text) return;
    status = next;
    options.onStatus?.(next);
  };

  // Every rule this process authorized and has not revoked, noted as each change lands.
  const authorized = new AuthorizedRules();
  const tracked: AgentDeps = {
    ...deps,
    onChange: (c) => {
      authorized.note(c);
      deps.onChange?.(c);
    },
  };

  const leave = async (end: WatchEnd): Promise<WatchEnd> => {
    let failure: Error | undefined;
    try {
      await deregister(tracked, self);
    } catch (e) {
      failure = e instanceof Error ? e : new Error(String(e));
    }
    // What the listing did not show (EC2's reads lag its writes), or the pass could not reach, goes by id.
    if (authorized.size > 0) {
      log.info({ rules: authorized.size }, 'revoking by id the rules this watch authorized that the deregistration did not remove');
      try {
        await revokeAuthorized(deps.ec2, authorized, tracked.onChange);
      } catch (e) {
        failure ??= e instanceof Error ? e : new Error(String(e));
      }
    }
    if (failure) throw failure;
    log.info('deregistered');
    return end;
  };

  for (;;) {
    if (signal.aborted) {
      log.info('stop signal received: deregistering');
      return leave('signal');
    }
    let registering = false;
    try {
      const end = await departure(deps, log);
      if (end) return await leave(end);
      self = await readSelf(deps);
      const standing = standingOf(self, deps);
      const change = changeOf(admitted, standing);
      if (change) {
        if (admitted) log.info(change, `${[change.toAddress && 'address', change.toTargets && 'targets'].filter(Boolean).join(' and ')} changed: registering again`);
        registering = true;
        const result = await register(tracked, { wait: true, self });
        self = result.self;
        admitted = standing;
        log.info({ instance: self.instanceId, address: standing.address, targets: result.targets, ...changeCounts(result.changes) }, 'registered');
        const where = addressesText(self);
        report({ admitted: true, text: result.targets.length ? `admitted by ${result.targets.join(', ')} (${where})` : `no target selects this instance (${where})` });
      }
    } catch (e) {
      if (isSgsyncError(e) && !passes(e)) throw e;
      const code = isSgsyncError(e) ? e.code : undefined;
      const message = messageOf(e);
      if (registering) log.warn({ code }, `registration failed, retrying: ${message}`);
      else log.warn({ code }, `poll failed, trying again in ${options.pollMs} ms: ${message}`);
      // A poll that failed after the instance was admitted leaves it admitted.
      if (registering || !admitted) report({ admitted: false, text: `not admitted yet, trying again every poll: ${message.replace(/\s+/g, ' ')}` });
    }
    await pause(options.pollMs, signal);
  }
}
