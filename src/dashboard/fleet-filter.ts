/**
 * Filtering, sorting and counting fleet rows: one implementation behind the
 * `sgsync inventory` flags and the dashboard's Fleet filters, so both answer
 * the same question the same way.
 */
import { holdsStale, RULE_STATUSES, worstStatus, type FleetView, type InstanceRow, type RuleStatus } from './fleet-view.js';

export interface FleetFilter {
  regions?: string[];
  states?: string[];
  /** Every tag must be present with this value; `*` accepts any value. */
  tags?: Record<string, string>;
  /** Only instances this target picks (or, with `status`, their standing in it). */
  target?: string;
  status?: RuleStatus;
  /** Case-insensitive text found in the id, Name, addresses, type or any tag value. */
  q?: string;
}

/**
 * `attention` puts the most urgent rows first (a row's most urgent status in
 * any target, in the order of RULE_STATUSES): at fleet scale, what an
 * operator opens the page for.
 */
export const SORT_COLUMNS = ['region', 'id', 'name', 'state', 'type', 'public', 'private', 'launched', 'attention'] as const;
export type SortColumn = (typeof SORT_COLUMNS)[number];

/** Parses `k=v` (or `k` alone, any value) as given to `--tag`. */
export function parseTagFilter(text: string): [string, string] {
  const at = text.indexOf('=');
  return at < 0 ? [text, '*'] : [text.slice(0, at), text.slice(at + 1)];
}

export function isSortColumn(text: string | undefined): text is SortColumn {
  return text !== undefined && (SORT_COLUMNS as readonly string[]).includes(text);
}

export function isRuleStatus(text: string | undefined): text is RuleStatus {
  return text !== undefined && (RULE_STATUSES as readonly string[]).includes(text);
}

function matchesText(row: InstanceRow, q: string): boolean {
  const needle = q.toLowerCase();
  const hay = [row.instanceId, row.name, row.region, row.state, row.type, row.publicIpv4, row.privateIpv4, ...row.ipv6, ...Object.values(row.tags)];
  return hay.some((v) => v !== undefined && v.toLowerCase().includes(needle));
}

/** The rows that pass every given criterion (an empty filter passes all). */
export function filterRows(rows: readonly InstanceRow[], filter: FleetFilter): InstanceRow[] {
  const regions = filter.regions?.length ? new Set(filter.regions) : undefined;
  const states = filter.states?.length ? new Set(filter.states) : undefined;
  const q = filter.q?.trim();
  return rows.filter((row) => {
    if (regions && !regions.has(row.region)) return false;
    if (states && !states.has(row.state)) return false;
    for (const [k, v] of Object.entries(filter.tags ?? {})) {
      if (!Object.hasOwn(row.tags, k) || (v !== '*' && row.tags[k] !== v)) return false;
    }
    if (filter.target !== undefined && filter.status === undefined && !row.targets.includes(filter.target)) return false;
    if (filter.status !== undefined) {
      const standings = filter.target !== undefined ? [row.standing[filter.target]] : Object.values(row.standing);
      // A member with a new address both lacks its rule and holds its old one: either filter finds it.
      if (!standings.some((s) => s?.status === filter.status || (filter.status === 'stale' && holdsStale(s)))) return false;
    }
    return !q || matchesText(row, q);
  });
}

const SORT_VALUE: Record<SortColumn, (r: InstanceRow) => string> = {
  region: (r) => r.region,
  id: (r) => r.instanceId,
  name: (r) => r.name,
  state: (r) => r.state,
  type: (r) => r.type ?? '',
  public: (r) => paddedIp(r.publicIpv4),
  private: (r) => paddedIp(r.privateIpv4),
  launched: (r) => r.launchTime ?? '',
  // One digit per status: there are fewer than ten.
  attention: (r) => String(RULE_STATUSES.indexOf(worstStatus(r))),
};

/** IPv4 addresses sort numerically (10.0.0.9 before 10.0.0.10). */
function paddedIp(ip: string | undefined): string {
  if (!ip) return '';
  return /^\d+\.\d+\.\d+\.\d+$/.test(ip) ? ip.split('.').map((p) => p.padStart(3, '0')).join('.') : ip;
}

/** A stable sort by one column; ties keep region, Name, id order. */
export function sortRows(rows: readonly InstanceRow[], column: SortColumn): InstanceRow[] {
  const value = SORT_VALUE[column];
  return rows
    .map((row, i) => ({ row, i, v: value(row) }))
    .sort((a, b) => (a.v < b.v ? -1 : a.v > b.v ? 1 : a.i - b.i))
    .map((x) => x.row);
}

export interface RegionCount {
  region: string;
  status: 'complete' | 'failed';
  reason?: string;
  instances: number;
  running: number;
  /** Rows needing attention in at least one target. */
  attention: number;
}

/** Instances per region, with failed regions kept in the list (never silently dropped). */
export function countByRegion(view: FleetView, rows: readonly InstanceRow[] = view.rows, attention: (r: InstanceRow) => boolean = () => false): RegionCount[] {
  return view.regions.map((r) => {
    const mine = rows.filter((row) => row.region === r.region);
    return {
      region: r.region,
      status: r.status,
      reason: r.reason,
      instances: mine.length,
      running: mine.filter((row) => row.state === 'running').length,
      attention: mine.filter(attention).length,
    };
  });
}
