/**
 * Fleet: every instance of every member region on one screen, with its rule
 * standing in each target; filters by text, region, state, target and
 * status; instance counts per region, failed regions included.
 */
import type { FC } from 'hono/jsx';
import { countByRegion, filterRows, type FleetFilter } from '../fleet-filter.js';
import { NEEDS_ATTENTION, RULE_STATUSES, worstStatus, type FleetView, type InstanceRow } from '../fleet-view.js';
import { Badge, poll, ScrollBox, shortTime } from '../layout.js';

const STATES = ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'];

/** The filter as query parameters, to keep it across refreshes and links. */
export function filterQuery(filter: FleetFilter): string {
  const params = new URLSearchParams();
  if (filter.q) params.set('q', filter.q);
  if (filter.regions?.[0]) params.set('region', filter.regions[0]);
  if (filter.states?.[0]) params.set('state', filter.states[0]);
  if (filter.target) params.set('target', filter.target);
  if (filter.status) params.set('status', filter.status);
  return params.toString();
}

const needsAttention = (r: InstanceRow) => Object.values(r.standing).some((s) => NEEDS_ATTENTION.has(s.status));

const Select: FC<{ name: string; label: string; value?: string; options: readonly string[] }> = ({ name, label, value, options }) => (
  <label>
    {label}
    <select name={name}>
      <option value="">all</option>
      {options.map((o) => (
        <option value={o} selected={o === value}>
          {o}
        </option>
      ))}
    </select>
  </label>
);

export const FleetFilters: FC<{ view: FleetView; filter: FleetFilter }> = ({ view, filter }) => (
  <form
    id="filters"
    class="filters panel"
    method="get"
    action="/"
    role="search"
    hx-get="/fragments/fleet"
    hx-target="#fleet"
    hx-swap="outerHTML"
    hx-trigger="change, submit, input changed delay:300ms from:#q"
  >
    <label>
      Search
      <input id="q" type="search" name="q" value={filter.q ?? ''} placeholder="id, name, address, tag" autocomplete="off" />
    </label>
    <Select name="region" label="Region" value={filter.regions?.[0]} options={view.regions.map((r) => r.region)} />
    <Select name="state" label="State" value={filter.states?.[0]} options={STATES} />
    <Select name="target" label="Target" value={filter.target} options={view.targets.map((t) => t.name)} />
    <Select name="status" label="Rule status" value={filter.status} options={RULE_STATUSES} />
    <button type="submit">Apply</button>
  </form>
);

/** The part that refreshes: counts and the instance table for the current filter. */
export const FleetSection: FC<{ view: FleetView; filter: FleetFilter; refresh: number }> = ({ view, filter, refresh }) => {
  const rows = filterRows(view.rows, filter);
  const perRegion = countByRegion(view, view.rows, needsAttention);
  const attention = view.rows.filter(needsAttention).length;
  // A region that could not be listed is not "listed": its instances are missing from every count here.
  const failed = view.regions.filter((r) => r.status === 'failed').length;
  const listed = view.regions.length - failed;
  const query = filterQuery(filter);
  return (
    <section id="fleet" aria-labelledby="fleet-title" {...poll(`/fragments/fleet${query ? `?${query}` : ''}`, refresh)}>
      <div class="cards">
        <div class="card" data-count="instances"><span class="n">{view.rows.length}</span><span class="l">instances</span></div>
        <div class="card" data-count="running"><span class="n">{view.rows.filter((r) => r.state === 'running').length}</span><span class="l">running</span></div>
        <div class="card" data-count="regions">
          <span class="n">{listed}</span>
          <span class="l">{failed > 0 ? `of ${view.regions.length} regions listed; ${failed} failed` : 'regions listed'}</span>
        </div>
        <div class="card" data-count="attention"><span class="n">{attention}</span><span class="l">need attention</span></div>
      </div>
      <ScrollBox id="regions-box" label="Instances per region" class="panel">
        <table id="regions">
          <caption>Instances per region</caption>
          <thead><tr><th scope="col">Region</th><th scope="col">Inventory</th><th scope="col" class="num">Instances</th><th scope="col" class="num">Running</th><th scope="col" class="num">Need attention</th></tr></thead>
          <tbody>
            {perRegion.map((r) => (
              <tr data-region={r.region} data-instances={String(r.instances)}>
                <th scope="row">{r.region}</th>
                <td>{r.status === 'failed' ? <><Badge status="failed" /> <span class="bad">{r.reason ?? ''}</span></> : <Badge status="complete" label="complete" />}</td>
                <td class="num">{r.instances}</td>
                <td class="num">{r.running}</td>
                <td class="num">{r.attention}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollBox>
      <h2 id="fleet-title">Instances</h2>
      <p id="shown" aria-live="polite">{`${rows.length} of ${view.rows.length} instances shown`}</p>
      <ScrollBox id="instances-box" label="Instances table">
        <table id="instances">
          <thead>
            <tr>
              <th scope="col">Region</th><th scope="col">Instance</th><th scope="col">Name</th><th scope="col">State</th><th scope="col">Type</th>
              <th scope="col">Public</th><th scope="col">Private</th><th scope="col">Launched</th>
              {view.targets.map((t) => <th scope="col">{`Target ${t.name}`}</th>)}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr data-instance={r.instanceId} data-status={worstStatus(r)}>
                <td>{r.region}</td>
                <td class="mono">{r.instanceId}</td>
                <td class="wrap">{r.name}</td>
                <td>{r.state}</td>
                <td>{r.type ?? ''}</td>
                <td class="mono">{r.publicIpv4 ?? ''}</td>
                <td class="mono">{r.privateIpv4 ?? ''}</td>
                <td>{shortTime(r.launchTime)}</td>
                {view.targets.map((t) => {
                  const s = r.standing[t.name];
                  return <td>{s ? <Badge status={s.status} title={s.detail} /> : ''}</td>;
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollBox>
    </section>
  );
};
