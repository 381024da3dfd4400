import { SgsyncError } from '../core/errors.js';
import type { Member } from '../core/model.js';
import { isEmptyPlan } from '../core/reconcile.js';
import { agentPass, outcomeProblem, readSelf, tagsUnseen, targetsFor, type AgentDeps, type AgentPassResult } from './agent-pass.js';

export interface RegisterOptions {
  /** Return only once every rule of this instance is observable (EC2 reads are eventually consistent). */
  wait?: boolean;
  /** How often to look while waiting. */
  pollMs?: number;
  /** This instance, when the caller has just read it (`watch`); else it is read from IMDS. */
  self?: Member;
}

export interface RegisterResult extends AgentPassResult {
  /** Targets that select this instance. */
  targets: string[];
  /** The rules were seen in AWS (only with `wait`). */
  observable?: boolean;
}

/** A pass's result and, when it stopped short after changing what it could, why (the error to exit with). */
export interface RegisterOutcome {
  result: RegisterResult;
  problem?: SgsyncError;
}

/**
 * Admits this instance to every target that selects it: adds the rules that
 * are missing, replaces rules that carry an old address (after a stop/start),
 * and leaves every other instance's rules alone. An instance that is already
 * registered costs one describe per target region and no mutating call.
 * What stops the pass short after it ran (a refusal, a full pool, a terminal
 * error for one target, rules still not visible) comes back as `problem`
 * beside the result, since the other targets' changes were made all the
 * same; what stops it before (IMDS, tags IMDS does not show) is thrown.
 */
export async function registerOutcome(deps: AgentDeps, options: RegisterOptions = {}): Promise<RegisterOutcome> {
  const self = options.self ?? (await readSelf(deps));
  const selected = targetsFor(self, deps.config.targets);
  const unseen = tagsUnseen(deps, self, selected);
  if (unseen) throw new SgsyncError('NOT_ON_INSTANCE', unseen);
  const targets = selected.map((t) => t.name);
  const pass = await agentPass(deps, self, { deregister: false, apply: true });
  const result: RegisterResult = { ...pass, targets };
  const problem = outcomeProblem(pass, deps.config.targets, deps.config);
  if (problem) return { result, problem };
  // A rule AWS answered Duplicate for that the reads did not list (one a killed register made, say) is no more
  // observable than one this pass made: only a pass that found every rule listed has nothing to wait for.
  if (!options.wait || (result.changes.length === 0 && result.alreadyThere.length === 0)) return { result: { ...result, observable: options.wait ? true : undefined } };

  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = deps.now() + deps.config.config.agent.waitSeconds * 1000;
  for (;;) {
    // A dry pass: if the plan is empty, every rule this instance needs is visible.
    const look = await agentPass(deps, self, { deregister: false, apply: false, quiet: true });
    if (isEmptyPlan(look.plan)) return { result: { ...result, observable: true } };
    if (deps.now() >= deadline) {
      const problem = new SgsyncError(
        'AWS_UNAVAILABLE',
        `The rules for ${self.instanceId} were authorized but are still not visible after ${deps.config.config.agent.waitSeconds}s.`,
        { retryable: true },
      );
      return { result: { ...result, observable: false }, problem };
    }
    await sleep(options.pollMs ?? 1000);
  }
}

/** `registerOutcome`, throwing its problem. */
export async function register(deps: AgentDeps, options: RegisterOptions = {}): Promise<RegisterResult> {
  const { result, problem } = await registerOutcome(deps, options);
  if (problem) throw problem;
  return result;
}
