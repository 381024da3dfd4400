import { describe, expect, it } from 'vitest';
import { isSortColumn, sortRows, SORT_COLUMNS } from './fleet-filter.js';
import type { InstanceRow, RuleStatus } from './fleet-view.js';

/** A row standing as given in targets a and b (in the view's order: region, Name, id). */
function row(id: string, a: RuleStatus, b: RuleStatus = 'not-member'): InstanceRow {
  return {
    region: 'eu-west-1', instanceId: id, name: id, state: 'running', ipv6: [], tags: {}, targets: [],
    standing: { a: { status: a, detail: '' }, b: { status: b, detail: '' } },
  };
}

describe('sorting by what needs attention', () => {
  const rows = [
    row('i-1', 'admitted'),
    row('i-2', 'not-member', 'missing'),
    row('i-3', 'idle'),
    row('i-4', 'stale', 'admitted'),
    row('i-5', 'not-member'),
    row('i-6', 'blocked'),
    row('i-7', 'refused'),
    row('i-8', 'missing'),
  ];

  it('puts rows by their most urgent status in any target first, and keeps the view order among equals', () => {
    expect(sortRows(rows, 'attention').map((r) => r.instanceId)).toEqual(['i-4', 'i-6', 'i-7', 'i-2', 'i-8', 'i-1', 'i-3', 'i-5']);
  });

  it('is one of the columns the CLI and the dashboard both take', () => {
    expect(SORT_COLUMNS).toContain('attention');
    expect([isSortColumn('attention'), isSortColumn('launched'), isSortColumn('rank'), isSortColumn(undefined)]).toEqual([true, true, false, false]);
  });
});
