import { missingGroupText, missingGroupWarnings, MISSING_GROUP_FIX, type LoadedConfig } from '../config/index.js';
import { SgsyncError } from '../core/errors.js';
import { haltedText } from '../core/safety.js';
import type { Member, ObservedRule, Plan, Target } from '../core/model.js';
import { ruleMember, isManagedBy } from '../core/ownership.js';
import type { Ec2Port, InstancePort } from '../core/ports.js';
import { plan as makePlan } from '../core/planner.js';
import { groupsByRegion, passWarnings, runPass, type AppliedChange, type PassOptions, type PassResult } from '../core/reconcile.js';
import { realPassTime } from '../controller/pass-time.js';
import { excludesRegion, matchesSelector } from '../core/selector.js';

/** Everything the agent works with, injected so tests can drive it against the sandbox. */
export interface AgentDeps {
  config: LoadedConfig;
  ec2: Ec2Port;
  instance: InstancePort;
  now: () => number;
  sleep?: (ms: number) => Promise<void>;
  onChange?: (change: AppliedChange) => void;
  /**
   * Told what the planner warned about (a rule left alone for an unknown
   * target, say: one of a target since renamed) and what the pass found
   * EC2's reads had not caught up with (see `lagWarnings`).
   */
  onWarning?: (warning: string) => void;
  /**
   * Told before each further round of a pass (see `PassOptions.onRound`):
   * under sustained throttling a pass's rounds and retries can take minutes,
   * and should not take them in silence.
   */
  onRound?: PassOptions['onRound'];
}

/** Reads this instance, taking its tags from IMDS or from `agent.tags`, as the config says. */
export async function readSelf(deps: AgentDeps): Promise<Member> {
  const self = await deps.instance.self();
  if (deps.config.config.agent.tagsFrom === 'config') {
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries(deps.config.config.agent.tags ?? {})) tags[k] = String(v);
    return { ...self, tags };
  }
  return self;
}

/** This instance's addresses as its messages name it: the public IPv4 (else the private one), then the IPv6 ones. */
export function addressesText(self: Pick<Member, 'publicIpv4' | 'privateIpv4' | 'ipv6'>): string {
  return [self.publicIpv4 ?? self.privateIpv4, ...(self.ipv6 ?? [])].filter((a) => a !== undefined).join(', ') || 'no address';
}

/** The targets whose selector admits this instance. */
export function targetsFor(self: Member, targets: readonly Target[]): Target[] {
  return targets.filter((t) => matchesSelector(self, t.selector));
}

/**
 * Why "no target selects this instance" may be wrong: IMDS shows none of its
 * tags, and instance metadata tags are off unless turned on, so a tag
 * selector would quietly admit nobody. Only when tags come from IMDS, none
 * were there, and some target would select the instance by region; else
 * undefined. `register` stops on it (`NOT_ON_INSTANCE`); `status` reports it.
 */
export function tagsUnseen(deps: Pick<AgentDeps, 'config'>, self: Member, selected: readonly Target[]): string | undefined {
  if (deps.config.config.agent.tagsFrom !== 'imds' || selected.length > 0 || Object.keys(self.tags ?? {}).length > 0) return undefined;
  const byTags = deps.config.targets.filter((t) => Object.keys(t.selector.tags ?? {}).length > 0 && !excludesRegion(t.selector, self.region));
  if (byTags.length === 0) return undefined;
  const keys = [...new Set(byTags.flatMap((t) => Object.keys(t.selector.tags ?? {})))].sort();
  return (
    `IMDS shows no tags for ${self.instanceId}, so no target selects it (${byTags.map((t) => t.name).join(', ')} ${byTags.length > 1 ? 'select' : 'selects'} by the tag${keys.length > 1 ? 's' : ''} ${keys.join(', ')}). ` +
    `Turn on instance metadata tags (aws ec2 modify-instance-metadata-options --instance-id ${self.instanceId} --instance-metadata-tags enabled), ` +
    'or set agent.tagsFrom: config and list the tags under agent.tags.'
  );
}

/** This instance's managed rules among the observed ones. */
export function ownRules(observed: readonly ObservedRule[], deployment: string, instanceId: string): ObservedRule[] {
  return observed.filter((r) => isManagedBy(r, deployment) && ruleMember(r).instanceId === instanceId);
}

export interface AgentPassResult extends PassResult {
  self: Member;
}

/**
 * One agent pass: the engine with this instance as the whole desired set and
 * its own rules as the scope. Rules of other instances are observed (they
 * count against the quota) but never touched. Warnings go to `onWarning`,
 * unless `quiet`.
 */
export async function agentPass(deps: AgentDeps, self: Member, options: { deregister: boolean; apply: boolean; quiet?: boolean }): Promise<AgentPassResult> {
  const { config } = deps;
  const result = await runPass({
    ec2: deps.ec2,
    groups: groupsByRegion(config.targets),
    apply: options.apply,
    ...realPassTime,
    sleep: deps.sleep ?? realPassTime.sleep,
    onChange: deps.onChange,
    onRound: deps.onRound,
    makePlan: (observed, learned) =>
      makePlan({
        full: learned.full,
        missing: learned.missing,
        deployment: config.config.deployment,
        targets: config.targets,
        members: [self],
        regionInventory: { [self.region]: { status: 'complete' } },
        observed,
        scope: { kind: 'instance', instanceId: self.instanceId, deregister: options.deregister },
        now: deps.now(),
        safety: config.safety,
      }),
  });
  // A look repeated while waiting for visibility (`quiet`) would say again what the pass before it said.
  // The agent may not list groups (its role has no DescribeSecurityGroups): it learns of one that does not exist from AWS's refusal.
  if (!options.quiet) for (const w of [...passWarnings(result), ...missingGroupWarnings(config, result.lastPlan.missing)]) deps.onWarning?.(w);
  return { ...result, self };
}

/** How full each pool is, as a sentence for a capacity error. */
export function poolUsage(plan: Plan, targetNames: readonly string[]): string {
  return targetNames
    .map((name) => {
      const lines = plan.capacity.filter((c) => c.target === name);
      const used = lines.reduce((n, c) => n + c.before, 0);
      const quota = lines.reduce((n, c) => n + c.quota, 0);
      return `target ${name}: ${lines.map((c) => `${c.groupId} ${c.before}/${c.quota} ${c.family}`).join(', ')} (${used} of ${quota} used)`;
    })
    .join('; ');
}

/**
 * What became of a refused instance's other targets, as the end of the
 * refusal's message: the targets whose rules this pass authorized, and those
 * whose rules were already in place (every target that selects the instance
 * and neither refused it nor had no room; the pass converged, or its error
 * would be the message).
 */
function admittedBy(result: AgentPassResult, selected: readonly string[], refused: ReadonlySet<string>): string {
  const blocked = new Set(result.lastPlan.blocked.filter((b) => b.instanceId === result.self.instanceId).map((b) => b.target));
  const authorized = new Set(result.changes.filter((c) => c.action === 'authorize').map((c) => c.target));
  const admitting = [...new Set(selected)].filter((t) => !refused.has(t) && !blocked.has(t)).sort();
  const now = admitting.filter((t) => authorized.has(t));
  const before = admitting.filter((t) => !authorized.has(t));
  const list = (names: string[]) => names.map((t) => `target ${t}`).join(', ');
  if (now.length === 0 && before.length === 0) return 'Nothing was authorized.';
  if (before.length === 0) return `Its rules for ${list(now)} were authorized.`;
  if (now.length === 0) return `Its rules for ${list(before)} were already in place.`;
  return `Its rules for ${list(now)} were authorized; those for ${list(before)} were already in place.`;
}

/**
 * What a pass left undone, as the error the user must see, or undefined: a
 * terminal AWS error or AWS still failing after every round (both among the
 * pass's errors), a refusal (no address of the right kind), a pool none of
 * whose groups exists, or a full pool. `targets` are the configuration's: a
 * refusal's message names those that admit the instance; `config` names
 * where a group that does not exist is written.
 */
export function outcomeProblem(result: AgentPassResult, targets: readonly Target[] = [], config?: LoadedConfig): SgsyncError | undefined {
  const { lastPlan, plan } = result;
  const terminal = result.errors[0];
  if (terminal) return terminal;
  const refused = plan.refused.filter((r) => r.instanceId === result.self.instanceId);
  if (refused.length > 0) {
    // Targets that do admit the instance got their rules all the same.
    const outcome = admittedBy(result, targetsFor(result.self, targets).map((t) => t.name), new Set(refused.map((r) => r.target)));
    return new SgsyncError('REFUSED', `${refused.map((r) => `target ${r.target}: ${r.detail}`).join('; ')}. ${outcome}`, { details: { refused } });
  }
  const blocked = lastPlan.blocked.filter((b) => b.instanceId === result.self.instanceId);
  const groupless = [...new Set(blocked.filter((b) => b.reason === 'no-group').map((b) => b.target))];
  if (groupless.length > 0 && config) {
    const gone = lastPlan.missing.filter((m) => groupless.includes(m.target));
    return new SgsyncError(
      'NOT_FOUND',
      `No group of the pool of target ${groupless.join(', ')} exists, so ${result.self.instanceId} cannot be admitted: ${gone.map((m) => missingGroupText(config, m)).join('; ')}. ${MISSING_GROUP_FIX}`,
      { details: { missing: gone } },
    );
  }
  if (blocked.length > 0) {
    const names = [...new Set(blocked.map((b) => b.target))];
    return new SgsyncError(
      'CAPACITY_EXHAUSTED',
      `No group in the pool has room for ${result.self.instanceId}: ${poolUsage(lastPlan, names)}. ` +
        `Add a group to the pool or raise the quota. ${result.changes.length === 0 ? 'Nothing was changed.' : ''}`.trim(),
      { details: { blocked } },
    );
  }
  // The planner halts fleet passes only, never one scoped to an instance; this keeps a halt, should that change, from reading as success.
  if (plan.halted) return new SgsyncError('BLAST_RADIUS', `${haltedText(plan.halted)}.`);
  return undefined;
}
