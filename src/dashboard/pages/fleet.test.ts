import { describe, expect, it } from 'vitest';
import type { FleetView, InstanceRow } from '../fleet-view.js';
import { filterQuery, FleetSection, shownText } from './fleet.js';

const REGIONS = ['ap-southeast-2', 'eu-west-1'];

/** n instances, alternately in two regions; every seventh missing its rule in target api, the rest in no target. */
function fleet(n: number): FleetView {
  const rows: InstanceRow[] = Array.from({ length: n }, (_, i) => ({
    region: REGIONS[i % 2]!, instanceId: `i-${String(i).padStart(5, '0')}`, name: `web-${i}`, state: 'running', ipv6: [], tags: {}, targets: i % 7 === 0 ? ['api'] : [],
    standing: { api: i % 7 === 0 ? { status: 'missing', detail: 'a pass would add it' } : { status: 'not-member', detail: 'the selector does not pick this instance' } },
  }));
  rows.sort((a, b) => (a.region < b.region ? -1 : a.region > b.region ? 1 : a.instanceId < b.instanceId ? -1 : 1));
  return { at: '2026-01-01T00:00:00.000Z', deployment: 'd', targets: [{ name: 'api' }], regions: REGIONS.map((region) => ({ region, status: 'complete' })), rows } as unknown as FleetView;
}

async function render(view: FleetView, query: Record<string, string> = {}, pageSize = 10): Promise<string> {
  const filter = { q: query.q, status: query.status as 'missing' | undefined };
  const node = FleetSection({ view, filter, position: { sort: query.sort as 'attention' | undefined, page: query.page ? Number(query.page) : undefined }, pageSize, refresh: 5 });
  return (node as { toString(): string | Promise<string> }).toString();
}

const rowIds = (html: string) => [...html.matchAll(/data-instance="(i-\d+)"/g)].map((m) => m[1]);
const shown = (html: string) => /<p id="shown"[^>]*>(.*?)<\/p>/s.exec(html)?.[1];

describe('the Fleet section at scale', () => {
  const view = fleet(95);

  it('shows one page of rows, and counts the whole fleet above it', async () => {
    const html = await render(view, { page: '3' });
    expect(rowIds(html)).toEqual(view.rows.slice(20, 30).map((r) => r.instanceId));
    expect(shown(html)).toBe('Showing 21–30 of 95 instances');
    expect(html).toContain('<div class="card" data-count="instances"><span class="n">95</span>');
    expect(html).toContain('data-region="eu-west-1" data-instances="47"');
  });

  it('keeps the page, the sort and the filter in its refresh and in its links', async () => {
    const html = await render(view, { q: 'web', sort: 'attention', page: '2' });
    expect(html).toContain('hx-get="/fragments/fleet?q=web&amp;sort=attention&amp;page=2" hx-trigger="every 5s"');
    expect(html).toContain('<a id="pager-top-next" href="/?q=web&amp;sort=attention&amp;page=3" hx-get="/fragments/fleet?q=web&amp;sort=attention&amp;page=3" hx-target="#fleet" hx-swap="outerHTML" rel="next">');
    expect(html).toContain('<a id="pager-bottom-first" href="/?q=web&amp;sort=attention"');
    expect(html).toContain('<a id="pager-top-last" href="/?q=web&amp;sort=attention&amp;page=10"');
    expect(html).toContain('Page 2 of 10');
  });

  it('shows the last page for a page past the end, and refreshes that page', async () => {
    const html = await render(view, { page: '40' });
    expect(rowIds(html)).toEqual(view.rows.slice(90).map((r) => r.instanceId));
    expect(shown(html)).toBe('Showing 91–95 of 95 instances');
    expect(html).toContain('hx-get="/fragments/fleet?page=10"');
    expect(html).not.toContain('id="pager-top-next"');
    expect(html).toContain('<span class="off" aria-disabled="true">Next ›</span>');
  });

  it('says how many a filter left of how many, and nothing is to be paged when none match', async () => {
    expect(shown(await render(view, { status: 'missing' }))).toBe('Showing 1–10 of 14 instances (filtered from 95)');
    const none = await render(view, { q: 'no-such-instance' });
    expect(rowIds(none)).toEqual([]);
    expect(shown(none)).toBe('No instances match (of 95)');
    expect(none).not.toContain('class="pager"');
  });

  it('sorts what needs attention first, across pages', async () => {
    const html = await render(view, { sort: 'attention' });
    expect(rowIds(html)).toEqual(view.rows.filter((r) => r.standing.api!.status === 'missing').slice(0, 10).map((r) => r.instanceId));
    expect(shown(html)).toBe('Showing 1–10 of 95 instances, sorted by needs attention first');
  });

  it('marks a target that does not pick an instance with a short mark, and gives its meaning once', async () => {
    const html = await render(view, {}, 200);
    expect(html).not.toContain('the selector does not pick this instance');
    expect(html.match(/<td class="nm"><span aria-hidden="true">–<\/span><span class="vh">not a member<\/span><\/td>/g)).toHaveLength(81);
    expect(html.match(/not a member, the target&#39;s selector does not pick the instance/g)).toHaveLength(1);
    expect(html).toContain('title="a pass would add it"');
  });
});

describe('a member a stop/start gave a new address', () => {
  it('shows what it lacks and, beside it, that it holds a rule that should go', async () => {
    const detail = 'a pass would add 54.0.0.2/32 443/tcp → sg-1; it also holds a rule that should go: a pass would revoke 54.9.9.9/32 443/tcp: address-changed';
    const view = fleet(1);
    view.rows[0]!.standing.api = { status: 'missing', detail, stale: true };
    const html = await render(view);
    const cell = /<tr data-instance="i-00000"[^>]*>.*?<\/tr>/s.exec(html)?.[0] ?? '';
    expect([...cell.matchAll(/class="badge s-(\w+)"/g)].map((m) => m[1])).toEqual(['missing', 'stale']);
  });
});

describe('the words over the table', () => {
  it.each([
    [{ page: 1, pages: 1, start: 0, end: 1, total: 1 }, 1, 'Showing 1–1 of 1 instance'],
    [{ page: 2, pages: 101, start: 200, end: 400, total: 20180 }, 20180, 'Showing 201–400 of 20,180 instances'],
    [{ page: 1, pages: 1, start: 0, end: 20, total: 20 }, 20180, 'Showing 1–20 of 20 instances (filtered from 20,180)'],
    [{ page: 1, pages: 1, start: 0, end: 0, total: 0 }, 0, 'No instances match'],
  ])('for %j of %i are "%s"', (slice, all, text) => {
    expect(shownText(slice, all)).toBe(text);
  });
});

describe('the query of a Fleet page', () => {
  it.each([
    [{}, {}, ''],
    [{}, { sort: 'region' as const, page: 1 }, ''],
    [{ q: 'a b', status: 'stale' as const }, { sort: 'attention' as const, page: 4 }, 'q=a+b&status=stale&sort=attention&page=4'],
  ])('of %j at %j is "%s"', (filter, position, query) => {
    expect(filterQuery(filter, position)).toBe(query);
  });
});
