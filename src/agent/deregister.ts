import { agentPass, outcomeProblem, readSelf, type AgentDeps, type AgentPassResult } from './agent-pass.js';
import type { SgsyncError } from '../core/errors.js';
import type { Member } from '../core/model.js';

/**
 * Removes every rule of this instance from every target, whatever its
 * address: the pass's desired set is empty and its scope is this instance.
 * Other instances' rules and foreign rules are never touched. An error for
 * one target (permission, a group not in its region) comes back as `problem`
 * beside the result, since the other targets' rules were removed all the same.
 */
export async function deregisterOutcome(deps: AgentDeps, known?: Member): Promise<{ result: AgentPassResult; problem?: SgsyncError }> {
  const self = known ?? (await readSelf(deps));
  const result = await agentPass(deps, self, { deregister: true, apply: true });
  return { result, problem: outcomeProblem(result, deps.config.targets) };
}

/** `deregisterOutcome`, throwing its problem. */
export async function deregister(deps: AgentDeps, known?: Member): Promise<AgentPassResult> {
  const { result, problem } = await deregisterOutcome(deps, known);
  if (problem) throw problem;
  return result;
}
