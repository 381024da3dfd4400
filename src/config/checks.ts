/**
 * Rules of sgsync.yaml that no single key can express: names and groups that
 * clash across targets, and pools that AWS could never attach to one network
 * interface. They run even when other keys are wrong, so a user sees every
 * problem at once; hence they read the input defensively.
 */
import { AWS_LIMITS, DEFAULTS } from './defaults.js';
import type { Target } from '../core/model.js';
import { portFamily } from '../core/rule-key.js';

interface IssueSink {
  addIssue(issue: { code: 'custom'; path: PropertyKey[]; message: string; input?: unknown }): void;
}

const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asRecord = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** Adds an issue for each cross-key rule the configuration breaks. */
export function crossCheck(value: unknown, ctx: IssueSink): void {
  const config = asRecord(value);
  const targets = asArray(config.targets).map(asRecord);
  const nameAt = new Map<string, number>();
  const groupHome = new Map<string, { target: string; region: string }>();

  targets.forEach((t, i) => {
    const name = typeof t.name === 'string' ? t.name : `#${i}`;
    const region = typeof t.region === 'string' ? t.region : undefined;
    if (typeof t.name === 'string') {
      const first = nameAt.get(t.name);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['targets', i, 'name'], message: `target name "${t.name}" is already used by targets[${first}]` });
      } else nameAt.set(t.name, i);
    }
    const groups = asArray(t.groups).filter((g): g is string => typeof g === 'string');
    /** Checks each group id of `key`: listed once in it, never also in `clash`, and in one region across every target. */
    const checkGroups = (key: 'groups' | 'retiredGroups', twice: string, clash?: { ids: ReadonlySet<string>; message: string }) => {
      const seen = new Set<string>();
      asArray(t[key]).forEach((g, k) => {
        if (typeof g !== 'string') return;
        const path = ['targets', i, key, k];
        if (seen.has(g)) {
          ctx.addIssue({ code: 'custom', path, message: `${g} is listed twice in ${twice}` });
          return;
        }
        seen.add(g);
        if (clash?.ids.has(g)) ctx.addIssue({ code: 'custom', path, message: `${g} ${clash.message}` });
        const home = groupHome.get(g);
        if (home && region && home.region !== region) {
          ctx.addIssue({ code: 'custom', path, message: `${g} is also in target "${home.target}" in ${home.region}; a security group lives in one region` });
        } else if (!home && region) groupHome.set(g, { target: name, region });
      });
    };
    checkGroups('groups', 'this pool');
    checkGroups('retiredGroups', 'retiredGroups', {
      ids: new Set(groups),
      message: "is in this target's groups too: a group is in the pool or retired, not both",
    });
    const quota = typeof t.quota === 'number' ? t.quota : DEFAULTS.quota;
    const needed = quota * groups.length;
    if (groups.length <= AWS_LIMITS.maxGroupsPerInterface && needed > AWS_LIMITS.maxRulesPerInterface) {
      ctx.addIssue({
        code: 'custom',
        path: ['targets', i, 'quota'],
        message:
          `target ${name}: ${groups.length} groups × quota ${quota} = ${needed} rules per interface; ` +
          `AWS allows at most ${AWS_LIMITS.maxRulesPerInterface} (rules per group × groups per network interface); use fewer groups or a smaller quota`,
      });
    }
  });

  const agent = asRecord(config.agent);
  if (agent.tagsFrom === 'config' && agent.tags === undefined) {
    ctx.addIssue({ code: 'custom', path: ['agent', 'tags'], message: 'tagsFrom is config, so list the instance tags here' });
  }
  if (agent.tagsFrom !== 'config' && agent.tags !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['agent', 'tags'], message: 'only used with tagsFrom: config (tags are read from IMDS otherwise)' });
  }
}

/**
 * Things that are valid but need the account's AWS quotas raised first;
 * worth saying before the first pass finds out the hard way.
 */
export function configWarnings(config: { targets: { name: string; groups: string[]; quota: number }[] }): string[] {
  const warnings: string[] = [];
  for (const t of config.targets) {
    if (t.quota > AWS_LIMITS.defaultRulesPerGroup) {
      warnings.push(
        `target ${t.name}: quota ${t.quota} is above AWS's default of ${AWS_LIMITS.defaultRulesPerGroup} rules per group; ` +
          'request an increase of "Inbound or outbound rules per security group" (L-0EA8095F) first',
      );
    }
    if (t.groups.length > AWS_LIMITS.defaultGroupsPerInterface) {
      warnings.push(
        `target ${t.name}: ${t.groups.length} groups is above AWS's default of ${AWS_LIMITS.defaultGroupsPerInterface} ` +
          'security groups per network interface; request an increase first',
      );
    }
  }
  return warnings;
}

/**
 * Ports that can serve none of their target's families: ICMP runs over IPv4
 * only and ICMPv6 over IPv6 only, so `icmpv6` on an IPv4-only target admits
 * nothing. Passes write no rule for such a pairing (and revoke one found).
 */
export function portFamilyWarnings(targets: readonly Pick<Target, 'name' | 'ports' | 'families'>[]): string[] {
  const warnings: string[] = [];
  for (const t of targets) {
    for (const port of t.ports) {
      const only = portFamily(port);
      if (only === undefined || t.families.includes(only)) continue;
      const what = only === 'ipv4' ? 'ICMP runs over IPv4' : 'ICMPv6 runs over IPv6';
      warnings.push(`target ${t.name}: port ${port.protocol} serves none of its families (${t.families.join(', ')}): ${what} only, so no rule is written for it; add ${only} to families or remove the port`);
    }
  }
  return warnings;
}
