/**
 * From a validated configuration to the model the planner works on:
 * targets with canonical port specs and normalised selectors, and the
 * safety settings of a pass.
 */
import type { MemberSelector, PortSpec, SafetySettings, Target } from '../core/model.js';
import { portKey } from '../core/rule-key.js';
import { canonicalPort, type PortInput } from './ports.js';
import type { SgsyncConfig, TargetConfig } from './schema.js';

type TagValue = string | number | boolean;

/**
 * Normalises a tag selector: every value becomes a list of strings, without
 * duplicates; a list containing `*` becomes just `*` (any value matches).
 * YAML reads `tier: 2` as a number, so scalars are turned back into text.
 */
export function normaliseTags(tags: Record<string, TagValue | TagValue[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, raw] of Object.entries(tags)) {
    const values = [...new Set((Array.isArray(raw) ? raw : [raw]).map(String))];
    out[key] = values.includes('*') ? ['*'] : values;
  }
  return out;
}

/** Canonical port specs in the order written, each listed once (`443` and `443/tcp` are the same). */
export function canonicalPorts(ports: readonly PortInput[]): PortSpec[] {
  const seen = new Map<string, PortSpec>();
  for (const p of ports) {
    const spec = canonicalPort(p);
    if (!seen.has(portKey(spec))) seen.set(portKey(spec), spec);
  }
  return [...seen.values()];
}

function selectorOf(members: TargetConfig['members']): MemberSelector {
  const selector: MemberSelector = {};
  if (members.regions) selector.regions = [...new Set(members.regions)];
  if (members.tags) selector.tags = normaliseTags(members.tags);
  return selector;
}

/** The targets of a validated configuration, as the planner expects them. */
export function toTargets(config: SgsyncConfig): Target[] {
  return config.targets.map((t) => ({
    name: t.name,
    region: t.region,
    groupIds: [...t.groups],
    ...(t.retiredGroups && t.retiredGroups.length > 0 ? { retiredGroupIds: [...t.retiredGroups] } : {}),
    ports: canonicalPorts(t.ports),
    families: [...new Set(t.families)],
    address: t.address,
    quota: t.quota,
    selector: selectorOf(t.members),
  }));
}

/** What the planner needs to know about safety; `force` comes from the command line. */
export type { SafetySettings };

/** The safety settings of a pass: the configured limits plus the caller's `--force`. */
export function toSafety(config: SgsyncConfig, force = false): SafetySettings {
  return {
    graceSeconds: config.safety.graceSeconds,
    revokeLimit: { count: config.safety.revokeLimit.count, fraction: config.safety.revokeLimit.fraction },
    force,
  };
}
