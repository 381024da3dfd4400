/**
 * Drift: what a pass would change right now, and why, from the planner —
 * rules to add, rules to revoke, members that cannot be placed or admitted,
 * rules kept back by the safety rules, and dangerous rules sgsync will not
 * touch. With --allow-apply, a button runs the pass.
 */
import type { FC } from 'hono/jsx';
import type { TargetReport } from '../../controller/report.js';
import type { FleetView } from '../fleet-view.js';
import { Badge, poll, ScrollBox } from '../layout.js';
import { portText, type PortRange } from '../port-text.js';
import { heldBackReasons } from '../../core/safety.js';
import { blockedText, retiredText, revokeText } from '../../core/plan-output.js';

/** One table of a target's drift; `id` names target and table with `:`, which no target name has, so ids never collide. */
function Rows<T>({ id, caption, heads, items, cells }: { id: string; caption: string; heads: string[]; items: T[]; cells: (item: T) => (string | number | undefined)[] }) {
  if (items.length === 0) return '';
  return (
    <ScrollBox id={id} label={caption}>
      <table>
        <caption>{`${caption} (${items.length})`}</caption>
        <thead><tr>{heads.map((h) => <th scope="col">{h}</th>)}</tr></thead>
        <tbody>
          {items.map((item) => (
            <tr>{cells(item).map((c) => <td class="wrap">{c ?? ''}</td>)}</tr>
          ))}
        </tbody>
      </table>
    </ScrollBox>
  );
}

const port = (p?: PortRange) => (p ? portText(p) : '');

const TargetDrift: FC<{ t: TargetReport }> = ({ t }) => {
  const dangerous = t.foreign.filter((f) => f.dangerous);
  const retired = t.retired ?? [];
  const quiet = t.add.length + t.revoke.length + t.blocked.length + t.refused.length + t.kept.length + dangerous.length + t.missing.length === 0 && retired.every((l) => l.rules === 0);
  return (
    <section class="panel" aria-labelledby={`d-${t.name}`} data-target={t.name}>
      <h2 id={`d-${t.name}`}>{`${t.name} (${t.region})`}</h2>
      {quiet ? <p class="ok">In step: nothing to add, revoke or report.</p> : ''}
      {retired.map((l) => <p class="retired" data-group={l.groupId}>{retiredText(l)}</p>)}
      <Rows id={`drift:${t.name}:add`} caption="Would add" heads={['Instance', 'Region', 'Address', 'Port', 'Group']} items={t.add} cells={(a) => [a.instanceId, a.memberRegion, a.cidr, port(a.port), a.groupId]} />
      <Rows id={`drift:${t.name}:revoke`} caption="Would revoke" heads={['Rule', 'Address', 'Port', 'Instance', 'Region', 'Why']} items={t.revoke} cells={(r) => [r.ruleId, r.cidr, port(r.port), r.instanceId, r.memberRegion, revokeText(r)]} />
      <Rows
        id={`drift:${t.name}:blocked`} caption="Blocked" heads={['Instance', 'Region', 'Address', 'Port', 'Why']} items={t.blocked}
        cells={(b) => [b.instanceId, b.memberRegion, b.cidr, port(b.port), blockedText(b.reason)]}
      />
      <Rows id={`drift:${t.name}:refused`} caption="Cannot be admitted" heads={['Instance', 'Region', 'Why']} items={t.refused} cells={(r) => [r.instanceId, r.memberRegion, r.detail]} />
      <Rows id={`drift:${t.name}:kept`} caption="Kept by the safety rules" heads={['Rule', 'Address', 'Port', 'Instance', 'Why']} items={t.kept} cells={(k) => [k.ruleId, k.cidr, port(k.port), k.instanceId, `${k.reason}: ${k.detail}`]} />
      <Rows id={`drift:${t.name}:open`} caption="Open to the world (not sgsync's; never changed)" heads={['Group', 'Rule', 'Source', 'Description']} items={dangerous} cells={(f) => [f.groupId, f.ruleId, f.cidr, f.description]} />
    </section>
  );
};

export const DriftSection: FC<{ view: FleetView; refresh: number; token?: string }> = ({ view, refresh, token }) => {
  const report = view.report;
  const failed = view.regions.filter((r) => r.status === 'failed');
  return (
    <section id="drift" {...poll('/fragments/drift', refresh)}>
      {report ? (
        <p>
          <Badge status={report.outcome === 'in-sync' ? 'admitted' : report.outcome === 'changes-pending' ? 'missing' : 'stale'} label={report.outcome} />
          {` ${report.summary.add} to add, ${report.summary.revoke} to revoke, ${report.summary.blocked} blocked, ${report.summary.refused} refused, ${report.summary.kept} kept, ${report.summary.dangerous} open to the world`}
        </p>
      ) : ''}
      {view.plan.halted ? (
        <p class="banner" role="alert">{`The blast-radius limit stops this pass: it would revoke ${view.plan.halted.wouldRevoke} of ${view.plan.halted.managed} managed rules (${[heldBackReasons(view.plan.kept), `limit ${view.plan.halted.limit}`].filter(Boolean).join('; ')}). Nothing would be revoked.`}</p>
      ) : ''}
      {failed.map((r) => (
        <p class="banner" role="alert">{`Inventory of ${r.region} failed: ${r.reason ?? 'unknown'}. Rules of its instances are kept, not revoked.`}</p>
      ))}
      {(report?.errors ?? []).filter((e) => e.code === 'NOT_FOUND').map((e) => (
        <p class="banner" role="alert">{e.message}</p>
      ))}
      {token !== undefined ? (
        <form method="post" action="/reconcile" class="panel">
          <input type="hidden" name="token" value={token} />
          <p>Run a pass now: add what is missing and revoke what is stale, within the safety rules.</p>
          <button type="submit" class="danger" id="reconcile-now">Reconcile now</button>
        </form>
      ) : ''}
      {(report?.targets ?? []).map((t) => <TargetDrift t={t} />)}
      {view.plan.warnings.length > 0 ? (
        <div class="panel"><h2>Warnings</h2><ul>{view.plan.warnings.map((w) => <li>{w}</li>)}</ul></div>
      ) : ''}
    </section>
  );
};
