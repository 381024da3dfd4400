/**
 * `sgsync status`: how full each group is, what has drifted, and what changed
 * last. Exits 10 when something needs attention, so cron or CI can run it as
 * a check.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { AuditRecord } from '../controller/audit.js';
import { groupCheckWarning } from '../controller/group-check.js';
import { isOpenToWorld } from '../core/addresses.js';
import { heldBackReasons } from '../core/safety.js';
import type { TargetReport } from '../controller/report.js';
import { readAuditTail } from '../dashboard/activity.js';
import { portText, type PortRange } from '../dashboard/port-text.js';
import type { FleetView } from '../dashboard/fleet-view.js';
import { EXIT } from './exit-codes.js';
import { numberIn } from './options.js';
import { readFleet, withFleetOptions, type FleetCliOptions } from './inventory.js';
import { printable, renderTable } from './table.js';
import { blockedText, poolText, poolTotals, retiredText, revokeText } from '../core/plan-output.js';

interface StatusOptions extends FleetCliOptions {
  auditLog?: string;
  changes: number;
  json?: boolean;
}

/** `[#########...........]` for used of quota; full when at or over. */
export function bar(used: number, quota: number, width = 20): string {
  const filled = quota <= 0 ? width : Math.min(width, Math.round((used / quota) * width));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** The problems worth a look, one sentence each; empty when all is well. */
export function attention(view: FleetView): string[] {
  const out: string[] = [];
  for (const r of view.regions) if (r.status === 'failed') out.push(`inventory of ${r.region} failed: ${r.reason ?? 'unknown'}`);
  if (view.plan.halted) {
    const why = heldBackReasons(view.plan.kept ?? []);
    out.push(`the blast-radius limit holds back ${view.plan.halted.wouldRevoke} revokes (${why ? `${why}; ` : ''}limit ${view.plan.halted.limit})`);
  }
  // A dry pass changes nothing, so its errors are what it found wrong: a pool group that does not exist, above all.
  for (const e of view.report?.errors ?? []) out.push(e.message);
  // What the pass warns of is what no pass will mend (a rule it leaves alone, a region no pass lists):
  // someone must. Only the groups left unchecked are news without being wrong (see statusWarnings).
  const unchecked = groupCheckWarning(view.groupCheck);
  for (const w of view.report?.warnings ?? []) if (w !== unchecked) out.push(w);
  for (const t of view.report?.targets ?? []) {
    const dangerous = t.foreign.filter((f) => f.dangerous);
    const say = (n: number, what: string) => n > 0 && out.push(`${t.name}: ${n} ${what}`);
    say(t.revoke.length, 'stale rule(s) a pass would revoke');
    say(t.add.length, 'member(s) without their rule');
    for (const reason of ['capacity', 'no-group', 'halted'] as const) say(t.blocked.filter((b) => b.reason === reason).length, `rule(s) blocked: ${blockedText(reason)}`);
    say(t.refused.length, 'member(s) that cannot be admitted (no usable address)');
    say(dangerous.length, 'rule(s) open to the world (not managed by sgsync)');
    say(t.revoke.filter((r) => isOpenToWorld(r.cidr)).length, "rule(s) open to the world under sgsync's tags, which it never writes (a pass revokes them; see who can add rules with its tags)");
    // Placement fills groups one by one, so a full group is no news while its pool has room; a full pool is.
    for (const p of poolTotals(t.capacity)) if (p.groups > 0 && p.room === 0) out.push(`${t.name}: the pool is full for ${p.family} (${p.after} of ${p.quota} rules after a pass, in ${p.groups} group(s)): a new member would be blocked`);
  }
  return out;
}

/**
 * A target's gauges and drift as text. Each drift line names its port: a
 * member of a target with several ports has a rule per port, and without it
 * the lines of one member read the same.
 */
export function targetLines(t: TargetReport): string {
  const gauges = renderTable(
    ['group', 'family', 'usage', 'used', 'quota', 'managed', 'foreign', 'after pass'],
    // A group that does not exist has no room, however empty it reads.
    t.capacity.map((c) => (c.missing ? [c.groupId, c.family, 'DOES NOT EXIST', '-', c.quota, '-', '-', '-'] : [c.groupId, c.family, bar(c.before, c.quota), c.before, c.quota, c.managed, c.foreign, c.after])),
  );
  const port = (p: PortRange | undefined) => (p ? portText(p) : undefined);
  const drift = [
    ...t.revoke.map((r) => ['stale', r.instanceId, r.cidr, port(r.port), `${r.ruleId}: ${revokeText(r)}`]),
    // Held back by a safety rule: not revoked this time, but not in step either.
    ...t.kept.map((k) => ['kept', k.instanceId, k.cidr, port(k.port), `${k.ruleId} kept back (${k.reason}: ${k.detail})`]),
    ...t.add.map((a) => ['missing', a.instanceId, a.cidr, port(a.port), `would add to ${a.groupId}`]),
    ...t.blocked.map((b) => ['blocked', b.instanceId, b.cidr, port(b.port), blockedText(b.reason)]),
    ...t.refused.map((r) => ['refused', r.instanceId, undefined, undefined, r.detail]),
    ...t.foreign.filter((f) => f.dangerous).map((f) => ['dangerous', undefined, f.cidr, port(f), `${f.ruleId} in ${f.groupId}, not sgsync's: ${f.description ?? ''}`]),
  ];
  const pools = [...poolTotals(t.capacity).map((p) => `Pool ${poolText(p)}\n`), ...(t.retired ?? []).map((l) => `${retiredText(l)}\n`)].join('');
  return `Target ${printable(t.name)} (${t.region})\n${pools}${gauges}${drift.length ? `\n${renderTable(['drift', 'instance', 'address', 'port', 'detail'], drift)}` : '\nNo drift.\n'}`;
}

/**
 * What the reader should know though nothing needs fixing in the fleet: that
 * the pool groups could not be checked (a role without
 * ec2:DescribeSecurityGroups), so a group that does not exist would look empty;
 * and that a retired group is empty, so its key can go.
 */
export function statusWarnings(view: FleetView): string[] {
  const w = groupCheckWarning(view.groupCheck);
  // A drained retired group is done: only its key is left to remove.
  const drained = (view.report?.targets ?? []).flatMap((t) => (t.retired ?? []).filter((l) => l.rules === 0).map((l) => `target ${t.name}: ${retiredText(l)}`));
  return [...(w ? [w] : []), ...drained];
}

function changesTable(records: AuditRecord[]): string {
  if (records.length === 0) return 'No changes in the audit log.\n';
  return renderTable(
    ['time', 'who', 'action', 'target', 'group', 'address', 'instance', 'why'],
    records.map((r) => [r.time, r.actor, r.action, r.target, r.group, r.cidr, r.instance, r.reason]),
  );
}

/**
 * The "last changes" part of the text output. Each way of showing nothing says
 * which it is: none asked for (`--changes 0`), no log at the path, or a log
 * with no records, since each asks the reader for something different.
 */
export function lastChanges(options: { auditLog?: string; changes: number }, records: AuditRecord[], logExists: boolean): string {
  if (options.auditLog === undefined) return '';
  const file = printable(options.auditLog);
  if (options.changes === 0) return `\nLast changes (${file}): none shown (--changes 0).\n`;
  if (!logExists) return `\nNo audit log at ${file}: nothing recorded there yet, or the path is not the one passes write to.\n`;
  return `\nLast changes (${file}):\n${changesTable(records)}`;
}

export function addStatusCommand(program: Command): void {
  withFleetOptions(program.command('status'))
    .summary('Show capacity, drift and the last changes; exit 10 when something needs attention')
    .description('Per target and group: rules used of the quota per family, managed and foreign rules, drift (stale rules, members without rules, dangerous foreign rules), and the last changes from the audit log.')
    .option('--audit-log <file>', 'the audit log (JSON lines) to read the last changes from')
    .option('--changes <n>', 'how many of the last changes to show, 0 to 1000 (0: none)', numberIn('--changes', 0, 1000, true), 10)
    .option('--json', 'print JSON on stdout')
    .addHelpText('after', '\nExit codes: 0 all is well, 10 something needs attention (a region that could not be listed, or a pool group that does not exist, included). See docs/exit-codes.md.')
    .action(async (options: StatusOptions) => {
      // The log first: a path that is no log is a usage error, found before any AWS call.
      const changes = options.auditLog ? await readAuditTail(options.auditLog, options.changes) : [];
      const { view } = await readFleet(options);
      const problems = attention(view);
      const warnings = statusWarnings(view);
      if (options.json) {
        const targets = (view.report?.targets ?? []).map((t) => ({ name: t.name, region: t.region, pools: poolTotals(t.capacity), capacity: t.capacity, missing: t.missing, ...(t.retired ? { retired: t.retired } : {}), revoke: t.revoke, kept: t.kept, add: t.add, blocked: t.blocked, refused: t.refused, foreign: t.foreign }));
        process.stdout.write(`${JSON.stringify({ at: view.at, deployment: view.deployment, ok: problems.length === 0, attention: problems, warnings, regions: view.regions, targets, changes }, null, 2)}\n`);
      } else {
        const sections = (view.report?.targets ?? []).map(targetLines);
        const verdict = problems.length === 0 ? 'All is well.' : `Needs attention:\n${problems.map((p) => `  - ${printable(p)}`).join('\n')}`;
        const last = lastChanges(options, changes, options.auditLog !== undefined && existsSync(options.auditLog));
        const warned = warnings.map((w) => `Warning: ${printable(w)}\n`).join('');
        process.stdout.write(`${sections.join('\n')}${last}\n${warned}${verdict}\n`);
      }
      // A failed region is one more thing that needs attention: cron and CI see one code for "look at this".
      process.exitCode = problems.length > 0 ? EXIT.CHANGES_PENDING : EXIT.OK;
    });
}
