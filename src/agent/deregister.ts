import { agentPass, checkOutcome, readSelf, type AgentDeps, type AgentPassResult } from './agent-pass.js';
import type { Member } from '../core/model.js';

/**
 * Removes every rule of this instance from every target, whatever its
 * address: the pass's desired set is empty and its scope is this instance.
 * Other instances' rules and foreign rules are never touched.
 */
export async function deregister(deps: AgentDeps, known?: Member): Promise<AgentPassResult> {
  const self = known ?? (await readSelf(deps));
  const result = await agentPass(deps, self, { deregister: true, apply: true });
  checkOutcome(result);
  return result;
}
