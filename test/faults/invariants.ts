/**
 * The invariants every fault-injection case ends with, checked against the
 * sandbox's world in-process (no API calls, so checking is cheap and cannot
 * itself be faulted or throttled). Each check returns messages that name the
 * invariant that broke and the rule, group or instance involved; an empty
 * list means the world is sound.
 */
import type { Sandbox } from '../../src/sandbox/index.js';

const MANAGED_BY = 'sgsync:managed-by';
const INSTANCE_TAG = 'sgsync:instance';
const DESCRIBED = /^sgsync \S+\/\S+ (i-[0-9a-f]{8,17}) /;

/** One port range a target admits. */
export interface PortRange {
  protocol: string;
  from: number;
  to: number;
}

/** A target as the checker sees it: written independently of sgsync's own config code. */
export interface TargetSpec {
  name: string;
  region: string;
  groups: readonly string[];
  ports: readonly PortRange[];
  address: 'public' | 'private';
  memberRegions: readonly string[];
  tags: Readonly<Record<string, string>>;
}

/** One inbound rule of a target group. */
export interface RuleView {
  id: string;
  groupId: string;
  region: string;
  protocol: string;
  from: number;
  to: number;
  cidr: string;
  family: 'ipv4' | 'ipv6';
  description: string;
  managedBy?: string;
  /** The instance a managed rule admits, from its tag or its description. */
  instanceId?: string;
}

/** A member: a running instance a target selects, with the address it needs. */
export interface MemberView {
  target: string;
  instanceId: string;
  cidr: string;
}

/** What the checker reads from the world at one moment. */
export interface WorldView {
  rules: RuleView[];
  /** Group id → inbound rules allowed per family. */
  quotas: Map<string, number>;
  members: MemberView[];
}

/** One change a pass says it made: an audit-log line, or an agent's log line for a change. */
export interface ChangeRecord {
  action: 'authorize' | 'revoke';
  group: string;
  ruleId: string | null;
  cidr: string | null;
  instance: string | null;
}

const portKey = (p: { protocol: string; from: number; to: number }) => `${p.protocol}:${p.from}-${p.to}`;

/** Reads the target groups' inbound rules and the targets' members from the sandbox, as they are now. */
export function viewWorld(sandbox: Sandbox, targets: readonly TargetSpec[]): WorldView {
  const world = sandbox.world;
  const rules: RuleView[] = [];
  const quotas = new Map<string, number>();
  const seen = new Set<string>();
  for (const target of targets) {
    const region = world.region(target.region);
    if (!region) throw new Error(`target ${target.name}: region ${target.region} is not in the sandbox`);
    for (const groupId of target.groups) {
      if (seen.has(groupId)) continue;
      seen.add(groupId);
      const group = region.groups.get(groupId);
      if (!group) throw new Error(`target ${target.name}: group ${groupId} is not in ${target.region}`);
      quotas.set(groupId, group.quota ?? region.quota);
      for (const ruleId of group.ruleIds) {
        const r = region.rules.get(ruleId);
        if (!r || r.isEgress) continue;
        const managedBy = r.tags.get(MANAGED_BY);
        rules.push({
          id: r.id,
          groupId,
          region: target.region,
          protocol: r.protocol,
          from: r.fromPort,
          to: r.toPort,
          cidr: r.cidrIpv4 ?? r.cidrIpv6 ?? `group:${r.referencedGroupId ?? '?'}`,
          family: r.cidrIpv6 ? 'ipv6' : 'ipv4',
          description: r.description ?? '',
          managedBy,
          instanceId: managedBy === undefined ? undefined : (r.tags.get(INSTANCE_TAG) ?? DESCRIBED.exec(r.description ?? '')?.[1]),
        });
      }
    }
  }
  const members: MemberView[] = [];
  for (const target of targets) {
    for (const regionName of target.memberRegions) {
      const region = world.region(regionName);
      if (!region) continue;
      for (const i of region.instances.values()) {
        if (i.state !== 'running') continue;
        if (!Object.entries(target.tags).every(([k, v]) => i.tags.get(k) === v)) continue;
        const ip = target.address === 'public' ? i.publicIp : i.privateIp;
        if (ip) members.push({ target: target.name, instanceId: i.id, cidr: `${ip}/32` });
      }
    }
  }
  return { rules, quotas, members };
}

export interface CheckInput {
  deployment: string;
  targets: readonly TargetSpec[];
  /** The world at the end of the case. */
  after: WorldView;
  /** The world before the passes under test: needed for the foreign-rule and audit checks. */
  before?: WorldView;
  /** Every change the passes between `before` and `after` logged. */
  changes?: readonly ChangeRecord[];
  /**
   * Whether `changes` is everything that changed the world (every writer in
   * the window logged its changes). When false, only "every line is a real
   * change" is checked, not "every change has a line" (a process killed
   * between a change landing and its line being written is allowed to miss it).
   */
  changesComplete?: boolean;
  /**
   * Which live members invariant 1 covers: all of them (the default), or only
   * those already admitted in `before` — for a pass that gave up, which must
   * have broken nothing but cannot have admitted everyone.
   */
  admission?: 'every-member' | 'admitted-before';
  /** Also require that no managed rule admits anything but a live member (the world has converged). */
  converged?: boolean;
  /** Violations recorded while the passes ran (see {@link watchAdmission}). */
  samples?: readonly string[];
}

const managed = (rules: readonly RuleView[], deployment: string) => rules.filter((r) => r.managedBy === deployment);
const foreign = (rules: readonly RuleView[], deployment: string) => rules.filter((r) => r.managedBy !== deployment);
const describeRule = (r: RuleView) => `${r.id} ${r.cidr} ${portKey(r)} in ${r.groupId}${r.instanceId ? ` (${r.instanceId})` : ''}`;

/** Invariant 1: every live member has exactly one managed rule per port range of its target, in the target's pool. */
export function checkAdmitted(input: Pick<CheckInput, 'deployment' | 'targets' | 'after' | 'before' | 'admission'>): string[] {
  const out: string[] = [];
  const rules = managed(input.after.rules, input.deployment);
  const admittedBefore = new Set(managed(input.before?.rules ?? [], input.deployment).map((r) => `${r.instanceId}|${r.cidr}`));
  for (const m of input.after.members) {
    if (input.admission === 'admitted-before' && !admittedBefore.has(`${m.instanceId}|${m.cidr}`)) continue;
    const target = input.targets.find((t) => t.name === m.target)!;
    for (const port of target.ports) {
      const matching = rules.filter((r) => target.groups.includes(r.groupId) && r.cidr === m.cidr && portKey(r) === portKey(port) && r.instanceId === m.instanceId);
      if (matching.length !== 1) {
        out.push(`[1 admitted] member ${m.instanceId} (${m.cidr}) of target ${m.target} has ${matching.length} managed rules for ${portKey(port)}, expected 1${matching.length ? `: ${matching.map(describeRule).join(', ')}` : ''}`);
      }
    }
  }
  return out;
}

/** With `converged`: no managed rule admits anything but a live member of its target. */
export function checkNoStale(input: Pick<CheckInput, 'deployment' | 'targets' | 'after'>): string[] {
  const live = new Set(input.after.members.map((m) => `${m.instanceId}|${m.cidr}`));
  return managed(input.after.rules, input.deployment)
    .filter((r) => !live.has(`${r.instanceId}|${r.cidr}`))
    .map((r) => `[converged] managed rule ${describeRule(r)} admits no live member`);
}

/** Invariant 3: the rules sgsync does not own are exactly as they were (id, CIDR, ports, description). */
export function checkForeignUnchanged(input: Pick<CheckInput, 'deployment' | 'after' | 'before'>): string[] {
  if (!input.before) return [];
  const key = (r: RuleView) => `${r.id} ${r.groupId} ${r.cidr} ${portKey(r)} "${r.description}"`;
  const before = new Set(foreign(input.before.rules, input.deployment).map(key));
  const after = new Set(foreign(input.after.rules, input.deployment).map(key));
  const out: string[] = [];
  for (const k of before) if (!after.has(k)) out.push(`[3 foreign] foreign rule changed or gone: ${k}`);
  for (const k of after) if (!before.has(k)) out.push(`[3 foreign] foreign rule appeared: ${k}`);
  return out;
}

/** Invariant 4: no two managed rules of one target admit the same CIDR on the same ports (in one group or across the pool). */
export function checkNoDuplicates(input: Pick<CheckInput, 'deployment' | 'targets' | 'after'>): string[] {
  const out: string[] = [];
  const rules = managed(input.after.rules, input.deployment);
  for (const target of input.targets) {
    const byKey = new Map<string, RuleView[]>();
    for (const r of rules.filter((x) => target.groups.includes(x.groupId))) {
      const k = `${r.cidr} ${portKey(r)}`;
      byKey.set(k, [...(byKey.get(k) ?? []), r]);
    }
    for (const [k, list] of byKey) {
      if (list.length > 1) out.push(`[4 duplicates] target ${target.name}: ${list.length} managed rules for ${k}: ${list.map(describeRule).join(', ')}`);
    }
  }
  return out;
}

/** Invariant 5: no group holds more inbound rules of a family than its quota. */
export function checkQuotas(input: Pick<CheckInput, 'after'>): string[] {
  const counts = new Map<string, number>();
  for (const r of input.after.rules) counts.set(`${r.groupId} ${r.family}`, (counts.get(`${r.groupId} ${r.family}`) ?? 0) + 1);
  const out: string[] = [];
  for (const [k, n] of counts) {
    const [groupId, family] = k.split(' ') as [string, string];
    const quota = input.after.quotas.get(groupId)!;
    if (n > quota) out.push(`[5 quota] group ${groupId} holds ${n} ${family} rules, over its quota of ${quota}`);
  }
  return out;
}

/**
 * Invariant 6: the log matches the world. Every authorize line names a rule
 * that appeared (or that a later revoke line took away again), every revoke
 * line a rule that was there and is gone; with `changesComplete`, every rule
 * that appeared or disappeared has its line.
 */
export function checkChangesLogged(input: Pick<CheckInput, 'deployment' | 'after' | 'before' | 'changes' | 'changesComplete'>): string[] {
  if (!input.before || !input.changes) return [];
  const out: string[] = [];
  const before = new Map(managed(input.before.rules, input.deployment).map((r) => [r.id, r]));
  const after = new Map(managed(input.after.rules, input.deployment).map((r) => [r.id, r]));
  const authorized = input.changes.filter((c) => c.action === 'authorize');
  const revoked = input.changes.filter((c) => c.action === 'revoke');
  const revokedIds = new Set(revoked.map((c) => c.ruleId));
  const authorizedIds = new Set(authorized.map((c) => c.ruleId));
  // A line without a rule id (AWS did not say) is matched by group and CIDR instead.
  const sameRule = (c: ChangeRecord, r: RuleView) => (c.ruleId ? c.ruleId === r.id : c.group === r.groupId && c.cidr === r.cidr);
  const line = (c: ChangeRecord) => `${c.action} ${c.ruleId ?? '(no id)'} ${c.cidr ?? ''} in ${c.group} for ${c.instance ?? '?'}`;

  for (const c of authorized) {
    const wasThere = [...before.values()].some((r) => sameRule(c, r));
    const isThere = [...after.values()].some((r) => sameRule(c, r));
    if (wasThere) out.push(`[6 audit] logged ${line(c)}, but that rule existed before the pass`);
    else if (!isThere && !(c.ruleId && revokedIds.has(c.ruleId))) out.push(`[6 audit] logged ${line(c)}, but no such rule exists and none was logged revoked`);
  }
  for (const c of revoked) {
    const isThere = [...after.values()].some((r) => sameRule(c, r));
    const wasThere = [...before.values()].some((r) => sameRule(c, r)) || (c.ruleId !== null && authorizedIds.has(c.ruleId));
    if (isThere) out.push(`[6 audit] logged ${line(c)}, but the rule is still there`);
    else if (!wasThere) out.push(`[6 audit] logged ${line(c)}, but no such rule existed`);
  }
  if (input.changesComplete ?? true) {
    for (const r of after.values()) {
      if (!before.has(r.id) && !authorized.some((c) => sameRule(c, r))) out.push(`[6 audit] rule ${describeRule(r)} appeared with no authorize line`);
    }
    for (const r of before.values()) {
      if (!after.has(r.id) && !revoked.some((c) => sameRule(c, r))) out.push(`[6 audit] rule ${describeRule(r)} disappeared with no revoke line`);
    }
  }
  return out;
}

/** Every invariant that the input gives enough to check; an empty list when the world is sound. */
export function checkInvariants(input: CheckInput): string[] {
  return [
    ...checkAdmitted(input),
    ...(input.samples ?? []),
    ...checkForeignUnchanged(input),
    ...checkNoDuplicates(input),
    ...checkQuotas(input),
    ...checkChangesLogged(input),
    ...(input.converged ? checkNoStale(input) : []),
  ];
}

/**
 * Invariant 2, recorded as it happens: the members admitted now must stay
 * admitted (a managed rule for their CIDR and each port range) at every
 * moment until `stop`. The check runs after every call that changed the
 * sandbox (it wraps `Sandbox.changed`), so no window between two calls goes
 * unseen, and on a timer as well. For cases where those members stay live.
 */
export function watchAdmission(sandbox: Sandbox, deployment: string, targets: readonly TargetSpec[]): { stop(): string[]; samples(): number } {
  const start = viewWorld(sandbox, targets);
  const watched = start.members.flatMap((m) => {
    const target = targets.find((t) => t.name === m.target)!;
    return target.ports.filter((p) => managed(start.rules, deployment).some((r) => r.cidr === m.cidr && portKey(r) === portKey(p))).map((p) => ({ m, p, groups: target.groups }));
  });
  const violations = new Set<string>();
  let count = 0;
  const sample = () => {
    count++;
    const now = viewWorld(sandbox, targets);
    const rules = managed(now.rules, deployment);
    for (const { m, p, groups } of watched) {
      if (!rules.some((r) => groups.includes(r.groupId) && r.cidr === m.cidr && portKey(r) === portKey(p))) {
        violations.add(`[2 never lost] member ${m.instanceId} (${m.cidr}) of target ${m.target} lost its rule for ${portKey(p)} while the pass ran`);
      }
    }
  };
  const original = sandbox.changed.bind(sandbox);
  sandbox.changed = () => {
    original();
    sample();
  };
  const timer = setInterval(sample, 25);
  sample();
  return {
    stop() {
      clearInterval(timer);
      sandbox.changed = original;
      sample();
      return [...violations];
    },
    samples: () => count,
  };
}

/** Reads audit-log lines (`reconcile --audit-log FILE`) as change records. */
export function auditChanges(text: string): ChangeRecord[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const rec = JSON.parse(l) as { action: 'authorize' | 'revoke'; group: string; ruleId: string | null; cidr: string | null; instance: string | null };
      return { action: rec.action, group: rec.group, ruleId: rec.ruleId, cidr: rec.cidr, instance: rec.instance };
    });
}

/** Reads the change lines an agent logs on stderr (one JSON object per change) as change records. */
export function agentChanges(stderr: string): ChangeRecord[] {
  const out: ChangeRecord[] = [];
  for (const l of stderr.split('\n')) {
    if (!l.startsWith('{')) continue;
    const rec = JSON.parse(l) as { action?: string; groupId?: string; ruleId?: string; cidr?: string; instanceId?: string };
    if ((rec.action === 'authorize' || rec.action === 'revoke') && rec.groupId) {
      out.push({ action: rec.action, group: rec.groupId, ruleId: rec.ruleId ?? null, cidr: rec.cidr ?? null, instance: rec.instanceId ?? null });
    }
  }
  return out;
}
