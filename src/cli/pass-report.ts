/**
 * A controller pass's report for people (tables) and its exit code. The
 * report itself is built in controller/; this is only how the CLI shows it.
 */
import type { PortSpec } from '../core/model.js';
import type { PassReport, TargetReport } from '../controller/report.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import type { ErrorCode } from '../core/errors.js';
import { portText } from '../dashboard/port-text.js';
import { printable, renderTable } from './table.js';
import { heldBackReasons } from '../core/safety.js';
import { blockedText, retiredText, revokeText } from '../core/plan-output.js';
import { stoppedText } from '../controller/pass-summary.js';

/** Rows per kind and target in the text output; --json always has every row. */
export const TEXT_ROW_LIMIT = 100;

/** Most specific first: when several things went wrong, the exit code names the one to fix first. */
const ERROR_PRIORITY: ErrorCode[] = ['PERMISSION_DENIED', 'CONFIG_INVALID', 'USAGE', 'INVALID_REQUEST', 'NOT_FOUND', 'CAPACITY_EXHAUSTED', 'AWS_UNAVAILABLE', 'THROTTLED'];

function worstError(codes: readonly string[]): number {
  const known = codes.filter((c): c is ErrorCode => ERROR_PRIORITY.includes(c as ErrorCode));
  const best = ERROR_PRIORITY.find((c) => known.includes(c));
  return best ? exitCodeFor(best) : EXIT.FAILURE;
}

/**
 * The exit code of `plan` or `reconcile`, after the whole pass is done:
 * terminal errors on groups first (4 permission, 6 unavailable, 1 a group
 * that does not exist, …), then a
 * halted pass (8), then a region whose inventory failed (its error's code:
 * 4 or 6, 1 otherwise), then members blocked by capacity (5, reconcile
 * only), then pending changes (10, plan only), else 0.
 */
export function passExitCode(report: PassReport): number {
  if (report.errors.length > 0) return worstError(report.errors.map((e) => e.code));
  if (report.halted) return EXIT.BLAST_RADIUS;
  const failed = report.regions.filter((r) => r.status === 'failed');
  if (failed.length > 0) return worstError(failed.map((r) => r.code ?? 'INTERNAL'));
  if (report.kind === 'reconcile' && report.summary.blocked > 0) return EXIT.CAPACITY;
  if (report.kind === 'plan' && report.summary.add + report.summary.revoke > 0) return EXIT.CHANGES_PENDING;
  return EXIT.OK;
}

function ports(p: PortSpec | undefined, protocol?: string, from?: number, to?: number): string {
  const proto = p?.protocol ?? protocol;
  if (proto === undefined) return '-';
  return portText({ protocol: proto, fromPort: p?.fromPort ?? from ?? -1, toPort: p?.toPort ?? to ?? -1 });
}

function capped<T>(rows: T[]): { rows: T[]; more: number } {
  return { rows: rows.slice(0, TEXT_ROW_LIMIT), more: Math.max(0, rows.length - TEXT_ROW_LIMIT) };
}

function targetRows(t: TargetReport, kind: PassReport['kind']): unknown[][] {
  const verb = kind === 'plan' ? { add: 'add', revoke: 'revoke' } : { add: 'added', revoke: 'revoked' };
  const rows: unknown[][] = [];
  const section = <T>(items: T[], row: (x: T) => unknown[], label: string) => {
    const { rows: shown, more } = capped(items);
    rows.push(...shown.map(row));
    if (more > 0) rows.push([label, '…', `${more} more (see --json)`, '', '', '', '', '']);
  };
  section(t.add, (a) => [verb.add, a.groupId, a.ruleId ?? '', a.cidr, ports(a.port), a.instanceId, a.memberRegion, 'member'], verb.add);
  section(t.revoke, (r) => [verb.revoke, r.groupId, r.ruleId, r.cidr, ports(r.port), r.instanceId, r.memberRegion, revokeText(r)], verb.revoke);
  section(t.kept, (k) => ['kept', k.groupId, k.ruleId, k.cidr, ports(k.port), k.instanceId, k.memberRegion ?? '', `${k.reason}: ${k.detail}`], 'kept');
  section(t.blocked, (b) => ['blocked', '', '', b.cidr, ports(b.port), b.instanceId, b.memberRegion, blockedText(b.reason)], 'blocked');
  section(t.refused, (r) => ['refused', '', '', '', '', r.instanceId, r.memberRegion, `${r.reason}: ${r.detail}`], 'refused');
  section(
    t.foreign,
    (f) => ['foreign', f.groupId, f.ruleId, f.cidr, ports(undefined, f.protocol, f.fromPort, f.toPort), '', '', f.dangerous ? 'OPEN TO THE WORLD (not managed by sgsync; left alone)' : (f.description ?? 'not managed by sgsync')],
    'foreign',
  );
  return rows;
}

function headline(r: PassReport): string {
  const s = r.summary;
  const verbs = r.kind === 'plan' ? ['to add', 'to revoke'] : ['added', 'revoked'];
  const parts = [`${s.add} ${verbs[0]}`, `${s.revoke} ${verbs[1]}`, `${s.kept} kept`, `${s.blocked} blocked`];
  if (s.refused) parts.push(`${s.refused} refused`);
  parts.push(`${s.foreign} foreign${s.dangerous ? ` (${s.dangerous} open to the world)` : ''}`);
  if (s.missing) parts.push(`${s.missing} group${s.missing === 1 ? '' : 's'} missing`);
  if (s.regionsFailed) parts.push(`${s.regionsFailed} region${s.regionsFailed === 1 ? '' : 's'} failed`);
  if (s.errors) parts.push(`${s.errors} error${s.errors === 1 ? '' : 's'}`);
  return parts.join(', ');
}

function advice(r: PassReport): string[] {
  const out: string[] = [];
  if (r.stopped !== undefined) out.push(`Pass ${stoppedText(r.stopped)}.`);
  if (r.halted) {
    // Rules wider than one address go all the same (see the planner): "none of them" is the rules the limit counts.
    const what = r.kind === 'plan' ? 'A reconcile would revoke none of them' : 'None of them was revoked';
    const why = heldBackReasons(r.targets.flatMap((t) => t.kept));
    out.push(
      `HALTED by the blast radius: the pass would revoke ${r.halted.wouldRevoke} of ${r.halted.managed} managed rules${why ? ` (${why})` : ''}; the limit is ${r.halted.limit}. ` +
        `${what}. Check why so many rules look stale; if it is right, run \`sgsync reconcile --force\` (or raise safety.revokeLimit).`,
    );
  }
  for (const g of r.regions.filter((x) => x.status === 'failed')) {
    out.push(`Inventory of ${g.region} failed (${printable(g.reason ?? 'unknown')}); rules of its instances were kept.`);
  }
  // AWS's messages and the rules' tags are quoted in these lines: shown as the tables show them.
  for (const e of r.errors) out.push(`Error: ${printable(e.message)}`);
  // Members whose pool has no group at all are the errors' business: no room would help them.
  if (r.targets.some((t) => t.blocked.some((b) => b.reason === 'capacity'))) {
    out.push('Some members are blocked: add a group to the target\'s pool, or raise the quota (Service Quotas L-0EA8095F) and set it in the config. Nobody was evicted.');
  }
  if (r.kind === 'plan' && r.outcome === 'changes-pending') out.push('Run `sgsync reconcile` to apply.');
  for (const w of r.warnings) out.push(`Warning: ${printable(w)}`);
  return out;
}

/**
 * A target's capacity per group and family. A group that does not exist
 * has no counts, only a note: its zeros would read as room.
 */
function capacityTable(t: TargetReport): string {
  const head = ['group', 'family', 'quota', 'before', 'after', 'managed', 'foreign'];
  if (!t.capacity.some((c) => c.missing)) return renderTable(head, t.capacity.map((c) => [c.groupId, c.family, c.quota, c.before, c.after, c.managed, c.foreign]));
  return renderTable(
    [...head, 'note'],
    t.capacity.map((c) => (c.missing ? [c.groupId, c.family, c.quota, '-', '-', '-', '-', 'DOES NOT EXIST'] : [c.groupId, c.family, c.quota, c.before, c.after, c.managed, c.foreign, ''])),
  );
}

/** The report as text for a terminal: regions, then per target its changes and capacity, then what to do. */
export function renderPassReport(r: PassReport): string {
  const title = r.kind === 'plan' ? 'plan (dry run, nothing changed)' : 'reconcile';
  const out: string[] = [`sgsync ${title} — deployment ${r.deployment}, pass ${r.passId}`, ''];
  out.push(
    renderTable(
      ['region', 'inventory', 'instances', 'reason'],
      r.regions.map((g) => [g.region, g.status, g.status === 'complete' ? g.instances : '-', g.reason ?? '']),
    ),
  );
  for (const t of r.targets) {
    out.push(`Target ${t.name} (${t.region})`);
    const rows = targetRows(t, r.kind);
    out.push(rows.length ? renderTable(['change', 'group', 'rule', 'cidr', 'ports', 'instance', 'region', 'why'], rows) : 'Nothing to change.\n');
    out.push(capacityTable(t));
    for (const l of t.retired ?? []) out.push(`${retiredText(l)}\n`);
  }
  out.push(`${r.outcome}: ${headline(r)}`);
  out.push(...advice(r));
  return `${out.join('\n')}\n`;
}
