/**
 * Fleet: the instances of every member region, one page at a time, with
 * their rule standing in each target; filters by text, region, state,
 * target and status, and a sort; instance counts per region (failed regions
 * included) over the whole fleet.
 */
import type { FC } from 'hono/jsx';
import { countByRegion, filterRows, isSortColumn, sortRows, type FleetFilter, type RegionCount, type SortColumn } from '../fleet-filter.js';
import { PAGE_SIZE, pageOf, type PageSlice } from '../fleet-page.js';
import { NEEDS_ATTENTION, RULE_STATUSES, worstStatus, type FleetView, type InstanceRow } from '../fleet-view.js';
import { Badge, poll, ScrollBox, shortTime } from '../layout.js';

const STATES = ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'];

/** Where in the filtered rows the table is: the sort, and the page from 1. */
export interface FleetPosition {
  sort?: SortColumn;
  page?: number;
}

/** The sort a page starts with: the view's own order (region, Name, id). */
export const DEFAULT_SORT: SortColumn = 'region';

/** What the sort choices say; `attention` is the one a person at fleet scale wants first. */
const SORT_LABELS: Record<SortColumn, string> = {
  attention: 'needs attention first',
  region: 'region',
  id: 'instance id',
  name: 'Name',
  state: 'state',
  type: 'type',
  public: 'public address',
  private: 'private address',
  launched: 'launch time',
};

/**
 * The filter, sort and page as query parameters, to keep them across
 * refreshes and links. The default sort and the first page are left out, so
 * an unfiltered first page is plain `/`.
 */
export function filterQuery(filter: FleetFilter, position: FleetPosition = {}): string {
  const params = new URLSearchParams();
  if (filter.q) params.set('q', filter.q);
  if (filter.regions?.[0]) params.set('region', filter.regions[0]);
  if (filter.states?.[0]) params.set('state', filter.states[0]);
  if (filter.target) params.set('target', filter.target);
  if (filter.status) params.set('status', filter.status);
  if (position.sort && position.sort !== DEFAULT_SORT) params.set('sort', position.sort);
  if (position.page && position.page > 1) params.set('page', String(position.page));
  return params.toString();
}

/** The sort a query asks for; an unknown one is the default. */
export function sortOf(text: string | undefined): SortColumn {
  return isSortColumn(text) ? text : DEFAULT_SORT;
}

const needsAttention = (r: InstanceRow) => Object.values(r.standing).some((s) => NEEDS_ATTENTION.has(s.status));

interface FleetSummary {
  perRegion: RegionCount[];
  running: number;
  attention: number;
}

/**
 * The whole fleet's counts and sorted orders, worked out once per view:
 * every browser polling the page asks for the same ones until the next read.
 */
const summaries = new WeakMap<FleetView, FleetSummary>();
const sortedViews = new WeakMap<FleetView, Map<SortColumn, InstanceRow[]>>();

function summaryOf(view: FleetView): FleetSummary {
  let s = summaries.get(view);
  if (!s) {
    s = { perRegion: countByRegion(view, view.rows, needsAttention), running: view.rows.filter((r) => r.state === 'running').length, attention: view.rows.filter(needsAttention).length };
    summaries.set(view, s);
  }
  return s;
}

/** The rows in this order. A stable sort then a filter gives what a filter then the sort gives, so the sort is done once per view. */
function sortedOf(view: FleetView, sort: SortColumn): readonly InstanceRow[] {
  if (sort === DEFAULT_SORT) return view.rows;
  let byColumn = sortedViews.get(view);
  if (!byColumn) sortedViews.set(view, (byColumn = new Map<SortColumn, InstanceRow[]>()));
  let rows = byColumn.get(sort);
  if (!rows) byColumn.set(sort, (rows = sortRows(view.rows, sort)));
  return rows;
}

/** The rows a query shows: filtered, sorted, and the page of them. */
export function fleetPage(view: FleetView, filter: FleetFilter, position: FleetPosition, size = PAGE_SIZE): { rows: InstanceRow[]; slice: PageSlice; matching: number } {
  const matching = filterRows(sortedOf(view, position.sort ?? DEFAULT_SORT), filter);
  const slice = pageOf(matching.length, position.page ?? 1, size);
  return { rows: matching.slice(slice.start, slice.end), slice, matching: matching.length };
}

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

export const FleetFilters: FC<{ view: FleetView; filter: FleetFilter; sort?: SortColumn }> = ({ view, filter, sort = DEFAULT_SORT }) => (
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
    <label>
      Sort by
      <select name="sort">
        {(Object.keys(SORT_LABELS) as SortColumn[]).map((c) => (
          <option value={c} selected={c === sort}>
            {SORT_LABELS[c]}
          </option>
        ))}
      </select>
    </label>
    <button type="submit">Apply</button>
  </form>
);

const count = (n: number) => n.toLocaleString('en-US');

/** "Showing 201–400 of 20,180 instances (filtered from 20,345)": what the page holds, of what. */
export function shownText(slice: PageSlice, all: number): string {
  const of = slice.total === all ? '' : ` (filtered from ${count(all)})`;
  if (slice.total === 0) return `No instances match${all ? ` (of ${count(all)})` : ''}`;
  return `Showing ${count(slice.start + 1)}–${count(slice.end)} of ${count(slice.total)} instance${slice.total === 1 ? '' : 's'}${of}`;
}

/**
 * First, Previous, Next and Last: plain links (the page works without
 * JavaScript) that htmx turns into a swap of the section. Ids are per place,
 * so focus stays on the link used after the swap.
 */
const Pager: FC<{ place: 'top' | 'bottom'; slice: PageSlice; link: (page: number) => string }> = ({ place, slice, link }) => {
  const to = (label: string, key: string, page: number, enabled: boolean, rel?: string) =>
    enabled ? (
      <a id={`pager-${place}-${key}`} href={`/${link(page)}`} hx-get={`/fragments/fleet${link(page)}`} hx-target="#fleet" hx-swap="outerHTML" rel={rel}>
        {label}
      </a>
    ) : (
      <span class="off" aria-disabled="true">{label}</span>
    );
  return (
    <nav class="pager" aria-label={`Pages of instances (${place})`}>
      {to('« First', 'first', 1, slice.page > 1)}
      {to('‹ Previous', 'prev', slice.page - 1, slice.page > 1, 'prev')}
      <span class="where">{`Page ${count(slice.page)} of ${count(slice.pages)}`}</span>
      {to('Next ›', 'next', slice.page + 1, slice.page < slice.pages, 'next')}
      {to('Last »', 'last', slice.pages, slice.page < slice.pages)}
    </nav>
  );
};

/** The instance table's column a sort orders by, for `aria-sort`. */
const SORTED_HEAD: Partial<Record<SortColumn, string>> = { region: 'Region', id: 'Instance', name: 'Name', state: 'State', type: 'Type', public: 'Public', private: 'Private', launched: 'Launched' };

/** The part that refreshes: counts over the whole fleet, and the page of the instance table for the current filter and sort. */
export const FleetSection: FC<{ view: FleetView; filter: FleetFilter; position?: FleetPosition; pageSize?: number; refresh: number }> = ({ view, filter, position = {}, pageSize, refresh }) => {
  const sort = position.sort ?? DEFAULT_SORT;
  const { rows, slice } = fleetPage(view, filter, { sort, page: position.page }, pageSize);
  const { perRegion, running, attention } = summaryOf(view);
  // A region that could not be listed is not "listed": its instances are missing from every count here.
  const failed = view.regions.filter((r) => r.status === 'failed').length;
  const listed = view.regions.length - failed;
  // The page shown, not the one asked for: a refresh of a page past the end stays on the last.
  const query = filterQuery(filter, { sort, page: slice.page });
  const link = (page: number) => {
    const q = filterQuery(filter, { sort, page });
    return q ? `?${q}` : '';
  };
  const heads = ['Region', 'Instance', 'Name', 'State', 'Type', 'Public', 'Private', 'IPv6', 'Launched'];
  return (
    <section id="fleet" aria-labelledby="fleet-title" {...poll(`/fragments/fleet${query ? `?${query}` : ''}`, refresh)}>
      <div class="cards">
        <div class="card" data-count="instances"><span class="n">{view.rows.length}</span><span class="l">instances</span></div>
        <div class="card" data-count="running"><span class="n">{running}</span><span class="l">running</span></div>
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
      <p id="shown" aria-live="polite" data-page={String(slice.page)} data-pages={String(slice.pages)} data-matching={String(slice.total)}>
        {shownText(slice, view.rows.length)}
        {sort !== DEFAULT_SORT ? `, sorted by ${SORT_LABELS[sort]}` : ''}
      </p>
      {slice.pages > 1 ? <Pager place="top" slice={slice} link={link} /> : ''}
      <p class="legend muted" id="legend">
        <span aria-hidden="true">–</span>
        {' in a target column: not a member, the target\'s selector does not pick the instance. A status\'s tooltip says why.'}
      </p>
      <ScrollBox id="instances-box" label="Instances table">
        <table id="instances">
          <thead>
            <tr>
              {heads.map((h) => (
                <th scope="col" aria-sort={SORTED_HEAD[sort] === h ? 'ascending' : undefined}>{h}</th>
              ))}
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
                <td class="mono">{r.ipv6.join(' ')}</td>
                <td>{shortTime(r.launchTime)}</td>
                {view.targets.map((t) => <StandingCell standing={r.standing[t.name]} />)}
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollBox>
      {slice.pages > 1 ? <Pager place="bottom" slice={slice} link={link} /> : ''}
    </section>
  );
};

/**
 * A row's standing in one target. Most instances are in no given target, and
 * that cell would repeat the same badge and tooltip thousands of times: it is
 * a muted dash, explained once in the legend, with the words for a screen reader.
 */
const StandingCell: FC<{ standing: InstanceRow['standing'][string] | undefined }> = ({ standing }) => {
  if (!standing) return <td></td>;
  if (standing.status === 'not-member') return <td class="nm"><span aria-hidden="true">–</span><span class="vh">not a member</span></td>;
  // A member with a new address lacks its rule and holds its old one: both are shown, the tooltip says which is which.
  return (
    <td>
      <Badge status={standing.status} title={standing.detail} />
      {standing.stale ? <> <Badge status="stale" title={standing.detail} /></> : ''}
    </td>
  );
};
