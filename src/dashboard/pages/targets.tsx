/**
 * Targets: how full each group of each pool is, per family, as a gauge and
 * numbers, with its usage over this session as a small chart, and the rules
 * sgsync does not own (the dangerous ones flagged). A group that does not
 * exist gets no gauge: its zero rules are no room.
 */
import type { FC } from 'hono/jsx';
import { groupCheckWarning } from '../../controller/group-check.js';
import type { CapacityLine, Target } from '../../core/model.js';
import { poolText, poolTotals, retiredText } from '../../core/plan-output.js';
import type { FleetView } from '../fleet-view.js';
import { Badge, poll, ScrollBox } from '../layout.js';
import { portText } from '../port-text.js';
import { sparklinePoints, usageKey, type UsageHistory } from '../usage-history.js';

const W = 160;
const H = 32;

const Gauge: FC<{ line: CapacityLine; history: UsageHistory }> = ({ line, history }) => {
  const samples = history.get(usageKey(line));
  const points = sparklinePoints(samples, W, H);
  const label = `${line.groupId} ${line.family}`;
  const top = Math.max(1, line.quota, ...samples.map((s) => s.used));
  return (
    <div class="gauge" data-group={line.groupId} data-family={line.family} data-used={String(line.before)} data-quota={String(line.quota)}>
      <div>
        <span class="mono">{line.groupId}</span> <span class="muted">{line.family}</span>
      </div>
      <meter min={0} max={line.quota} low={Math.floor(line.quota * 0.7)} high={Math.floor(line.quota * 0.9)} optimum={0} value={Math.min(line.before, line.quota)} aria-label={`${label} rules used`}>
        {`${line.before} of ${line.quota}`}
      </meter>
      <div class="nums">
        <strong>{`${line.before} / ${line.quota}`}</strong>
        <span class="muted">{` · ${line.managed} managed, ${line.foreign} foreign`}</span>
        {line.after !== line.before ? <span class="muted">{` · after a pass: ${line.after}`}</span> : ''}
      </div>
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={`${label}: ${samples.length} samples this session, now ${line.before}`}>
        <line x1={0} x2={W} y1={H - (line.quota / top) * H} y2={H - (line.quota / top) * H} />
        {points ? <polyline points={points} /> : ''}
      </svg>
    </div>
  );
};

/** A group of the pool that does not exist: what the pass said about it (where the configuration lists it), in place of a gauge. */
const Missing: FC<{ line: CapacityLine; said?: string }> = ({ line, said }) => (
  <div class="gauge missing" data-group={line.groupId} data-family={line.family} data-missing="true">
    <div>
      <span class="mono">{line.groupId}</span> <span class="muted">{line.family}</span>
    </div>
    <div>
      <Badge status="failed" label="does not exist" />
    </div>
    <div class="wrap">{said ?? `${line.groupId} does not exist in the target's region; nothing is placed in it.`}</div>
  </div>
);

const TargetPanel: FC<{ target: Target; view: FleetView; history: UsageHistory }> = ({ target, view, history }) => {
  // The report's lines know the most: a group AWS refused a rule in as not existing is marked there too.
  const gone = new Set([...(view.report?.targets.find((t) => t.name === target.name)?.missing ?? []), ...(view.plan.missing ?? []).filter((m) => m.target === target.name).map((m) => m.groupId)]);
  const lines = view.plan.capacity.filter((c) => c.target === target.name).map((c) => (gone.has(c.groupId) ? { ...c, missing: true as const } : c));
  const said = (groupId: string) => view.report?.errors.find((e) => e.code === 'NOT_FOUND' && e.groupId === groupId)?.message;
  const foreign = view.plan.foreign.filter((f) => f.target === target.name);
  return (
    <section class="panel" aria-labelledby={`t-${target.name}`} data-target={target.name}>
      <h2 id={`t-${target.name}`}>{target.name}</h2>
      <p class="muted">
        {`${target.region} · ${target.ports.map(portText).join(', ')} · ${target.address} ${target.families.join('+')} · quota ${target.quota} per group and family`}
      </p>
      {poolTotals(lines).map((p) => (
        <p class="pool" data-family={p.family} data-room={String(p.room)}>
          <strong>Pool</strong> {poolText(p)}
        </p>
      ))}
      {(view.report?.targets.find((t) => t.name === target.name)?.retired ?? []).map((l) => (
        <p class="pool retired" data-group={l.groupId} data-left={String(l.left)}>
          {retiredText(l)}
        </p>
      ))}
      {lines.map((line) => (line.missing ? <Missing line={line} said={said(line.groupId)} /> : <Gauge line={line} history={history} />))}
      {foreign.length > 0 ? (
        <ScrollBox id={`targets:${target.name}:foreign`} label={`Rules of ${target.name} sgsync does not own`}>
          <table>
            <caption>Rules sgsync does not own</caption>
            <thead><tr><th scope="col">Group</th><th scope="col">Rule</th><th scope="col">Ports</th><th scope="col">Source</th><th scope="col">Description</th><th scope="col">Risk</th></tr></thead>
            <tbody>
              {foreign.map((f) => (
                <tr>
                  <td class="mono">{f.groupId}</td>
                  <td class="mono">{f.ruleId}</td>
                  <td>{portText(f)}</td>
                  <td class="mono">{f.cidr ?? 'a group or prefix list'}</td>
                  <td class="wrap">{f.description ?? ''}</td>
                  <td>{f.dangerous ? <Badge status="dangerous" label="open to the world" /> : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      ) : (
        <p class="muted">No rules that sgsync does not own.</p>
      )}
    </section>
  );
};

export const TargetsSection: FC<{ view: FleetView; history: UsageHistory; refresh: number }> = ({ view, history, refresh }) => {
  const unchecked = groupCheckWarning(view.groupCheck);
  return (
    <section id="targets" {...poll('/fragments/targets', refresh)}>
      {unchecked ? <p class="banner info" role="status">{unchecked}</p> : ''}
      {view.targets.map((t) => <TargetPanel target={t} view={view} history={history} />)}
    </section>
  );
};
