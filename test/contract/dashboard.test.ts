import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { createDashboard } from '../../src/dashboard/app.js';
import { loadFleetView } from '../../src/dashboard/fleet-source.js';
import { FleetState } from '../../src/dashboard/fleet-state.js';
import type { FleetView } from '../../src/dashboard/fleet-view.js';
import { serveDashboard, type ServedDashboard } from '../../src/dashboard/serve.js';
import { HTMX, STYLESHEET } from '../../src/dashboard/static-assets.js';
import { allowedHostsFor } from '../../src/http/allowed-hosts.js';
import { configYaml, HOSTILE_NAME, MEMBER_REGIONS, startDashboardFleet, type DashboardFleet } from '../support/dashboard-fleet.js';

/** Inbound rules of one family in a sandbox group, as AWS counts them against the quota. */
function inbound(f: DashboardFleet, groupId: string, family: 'ipv4' | 'ipv6'): number {
  const region = f.sb.sandbox.world.region('us-east-1')!;
  return [...region.groups.get(groupId)!.ruleIds].map((id) => region.rules.get(id)!).filter((r) => !r.isEgress && (family === 'ipv4' ? r.cidrIpv4 : r.cidrIpv6)).length;
}

function instancesIn(f: DashboardFleet, regions: string[]): string[] {
  return regions.flatMap((r) => [...f.sb.sandbox.world.region(r)!.instances.keys()]);
}

const rowsOf = (html: string) => [...html.matchAll(/data-instance="(i-[0-9a-f]+)"/g)].map((m) => m[1]);

describe('a read-only dashboard', () => {
  let f: DashboardFleet;
  beforeAll(async () => {
    f = await startDashboardFleet();
  });
  afterAll(() => f.close());

  it.each(['/', '/targets', '/drift', '/activity'])('serves %s as a whole page with the security headers', async (path) => {
    const res = await f.app.request(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(`<script src="${HTMX.path}" defer=""></script>`);
    expect(html).toContain(`<link rel="stylesheet" href="${STYLESHEET.path}"/>`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(html).toMatch(/<a href="[^"]*" aria-current="page">/);
  });

  it.each(['fleet', 'targets', 'drift', 'activity'])('serves the %s fragment without the page around it, set to refresh itself', async (name) => {
    const res = await f.app.request(`/fragments/${name}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toContain('<html');
    expect(html).toMatch(new RegExp(`^<section id="${name}"[^>]* hx-get="/fragments/${name}" hx-trigger="every 5s" hx-swap="outerHTML"`));
  });

  it('sends with every fragment, out of band, when the fleet was read and whether the last read failed', async () => {
    const good = await f.state.view();
    const w = { clock: Date.parse('2026-03-04T05:06:07Z'), failing: false };
    const state = new FleetState({
      load: () => (w.failing ? Promise.reject(new Error('UnauthorizedOperation: DescribeSecurityGroupRules')) : Promise.resolve<FleetView>({ ...good, at: new Date(w.clock).toISOString() })),
      maxAgeMs: 1000,
      now: () => w.clock,
    });
    const app = createDashboard({ state, refreshSeconds: 1, activity: () => Promise.resolve([]), activitySource: 'none' });
    const fragments = ['fleet', 'targets', 'drift', 'activity'];
    const readAt = /<span class="meta" id="read-at" hx-swap-oob="true">deployment dash · read ([^<]*)<\/span>/;
    const banner = /<div id="freshness" hx-swap-oob="true">(.*?)<\/div>/;

    expect(await (await app.request('/')).text()).toContain('read 2026-03-04 05:06:07Z (0 s ago)');
    w.clock += 1000;
    // The view is an interval old: it is served as it is, saying how old, while the next read runs.
    expect(readAt.exec(await (await app.request('/fragments/fleet')).text())?.[1]).toBe('2026-03-04 05:06:07Z (1 s ago)');
    await state.settled();
    for (const name of fragments) {
      const html = await (await app.request(`/fragments/${name}`)).text();
      expect(readAt.exec(html)?.[1]).toBe('2026-03-04 05:06:08Z (0 s ago)');
      expect(banner.exec(html)?.[1]).toBe('');
    }

    w.failing = true;
    w.clock += 1000;
    await app.request('/fragments/fleet');
    await state.settled();
    for (const name of fragments) {
      const res = await app.request(`/fragments/${name}`);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(readAt.exec(html)?.[1]).toBe('2026-03-04 05:06:08Z (1 s ago)');
      expect(banner.exec(html)?.[1]).toBe('<p class="banner" role="alert">The last refresh failed at 2026-03-04 05:06:09Z (UnauthorizedOperation: DescribeSecurityGroupRules); this is the view of 2026-03-04 05:06:08Z.</p>');
    }
  });

  it('keeps the page as it is when the fleet could never be read, and says why above it', async () => {
    const state = new FleetState({ load: () => Promise.reject(new Error('no credentials')), maxAgeMs: 1000 });
    const app = createDashboard({ state, refreshSeconds: 1, activity: () => Promise.resolve([]), activitySource: 'none' });
    expect((await app.request('/')).status).toBe(503);
    const res = await app.request('/fragments/fleet');
    expect(res.headers.get('hx-reswap')).toBe('none');
    expect(await res.text()).toBe('<div id="freshness" hx-swap-oob="true"><p class="banner" role="alert">The fleet could not be read: no credentials</p></div>');
  });

  it('shows an audit log it cannot read as a message on the Activity page, not an error page', async () => {
    const refused = () => Promise.reject(new Error('The audit log "/var/log/sgsync" cannot be read (it is a directory).'));
    const app = createDashboard({ state: f.state, refreshSeconds: 5, activity: refused, activitySource: '/var/log/sgsync' });
    for (const path of ['/activity', '/fragments/activity']) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('<p class="banner" role="alert">The audit log &quot;/var/log/sgsync&quot; cannot be read (it is a directory).</p>');
      expect(html).not.toContain('No changes recorded yet');
    }
  });

  it.each(['fleet', 'targets', 'drift', 'activity'])('gives every element of the %s section a keyboard can focus an id, for htmx to give focus back after a refresh', async (name) => {
    const html = await (await f.app.request(`/fragments/${name}`)).text();
    const focusable = [...html.matchAll(/<(?:a|button|input|select|textarea)\b[^>]*>|<[a-z]+\b[^>]*\btabindex="0"[^>]*>/g)].map((m) => m[0]).filter((tag) => !tag.includes('type="hidden"'));
    // Activity has nothing to focus here: no change was made, so there is no table.
    if (name !== 'activity') expect(focusable.length).toBeGreaterThan(0);
    expect(focusable.filter((tag) => !/\bid="[^"]+"/.test(tag))).toEqual([]);
  });

  it('lists every instance of every member region on the Fleet page', async () => {
    const html = await (await f.app.request('/')).text();
    const all = instancesIn(f, ['us-east-1', ...MEMBER_REGIONS]);
    expect(rowsOf(html).sort()).toEqual(all.sort());
    expect(html).toContain(`Showing 1–${all.length} of ${all.length} instances`);
    for (const region of MEMBER_REGIONS) {
      expect(html).toContain(`data-region="${region}" data-instances="${instancesIn(f, [region]).length}"`);
    }
  });

  it('shows a hostile Name tag as text, never as markup', async () => {
    const html = await (await f.app.request('/')).text();
    expect(html).not.toContain('<script>window.__pwned');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<b>bold</b>');
    expect(html).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;img src=x onerror=&quot;window.__pwned=2;alert(1)&quot;&gt;');
    expect(HOSTILE_NAME).toContain('<script>');
  });

  it.each([
    ['region=sa-east-1', (f: DashboardFleet) => instancesIn(f, ['sa-east-1'])],
    ['state=stopped', (f: DashboardFleet) => instancesIn(f, MEMBER_REGIONS).filter((id) => MEMBER_REGIONS.some((r) => f.sb.sandbox.world.region(r)!.instances.get(id)?.state === 'stopped'))],
    ['q=__pwned', (f: DashboardFleet) => [f.hostileId]],
    ['target=admin', (f: DashboardFleet) => instancesIn(f, MEMBER_REGIONS).filter((id) => MEMBER_REGIONS.some((r) => f.sb.sandbox.world.region(r)!.instances.get(id)?.tags.get('role') === 'api'))],
  ])('filters the Fleet page by %s, in the page and in the fragment', async (query, expected) => {
    const want = expected(f).sort();
    expect(want.length).toBeGreaterThan(0);
    expect(rowsOf(await (await f.app.request(`/?${query}`)).text()).sort()).toEqual(want);
    expect(rowsOf(await (await f.app.request(`/fragments/fleet?${query}`)).text()).sort()).toEqual(want);
  });

  it('puts the filtered page in the address bar when the filter form asks', async () => {
    const res = await f.app.request('/fragments/fleet?region=eu-west-1&status=missing', { headers: { 'hx-request': 'true', 'hx-trigger': 'filters' } });
    expect(res.headers.get('hx-push-url')).toBe('/?region=eu-west-1&status=missing');
    const poll = await f.app.request('/fragments/fleet?region=eu-west-1', { headers: { 'hx-request': 'true', 'hx-trigger': 'fleet' } });
    expect(poll.headers.get('hx-push-url')).toBeNull();
  });

  it('shows on the Targets page the rule counts the sandbox holds, per group and family', async () => {
    const html = await (await f.app.request('/targets')).text();
    for (const groupId of f.pool) {
      expect(html).toContain(`data-group="${groupId}" data-family="ipv4" data-used="${inbound(f, groupId, 'ipv4')}" data-quota="4"`);
    }
    expect(html).toContain('open to the world');
  });

  it('shows on the Drift page what a pass would add, and no reconcile button', async () => {
    const html = await (await f.app.request('/drift')).text();
    expect(html).toMatch(/Would add \(\d+\)/);
    expect(html).toMatch(/<caption>Blocked \(\d+\)<\/caption>.*no room in the pool/s);
    expect(html).not.toContain('Reconcile now');
    expect(html).not.toContain('name="token"');
  });

  it('answers a page asked for with another method 405 with the methods it takes, and an unknown path 404', async () => {
    const del = await f.app.request('/', { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET, HEAD');
    expect(del.headers.get('x-frame-options')).toBe('DENY');
    expect((await f.app.request('/targets', { method: 'POST' })).status).toBe(405);
    expect((await f.app.request('/nowhere', { method: 'DELETE' })).status).toBe(404);
    expect((await f.app.request('/nowhere')).status).toBe(404);
  });

  it('has no reconcile endpoint at all', async () => {
    const res = await f.app.request('/reconcile', { method: 'POST', body: new URLSearchParams({ token: 'x' }) });
    expect(res.status).toBe(404);
  });

  it('serves htmx and its stylesheet from this process, at paths named by their content, to be kept for good', async () => {
    const js = await f.app.request(HTMX.path);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await js.text()).toContain('htmx');
    const css = await f.app.request(STYLESHEET.path);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    for (const [res, body] of [[js, HTMX.body], [css, STYLESHEET.body]] as const) {
      expect(res.headers.get('cache-control')).toBe('max-age=31536000, immutable');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      // The path changes whenever the content does, so a kept copy is never stale.
      expect(HTMX.path + STYLESHEET.path).toContain(`.${createHash('sha256').update(body).digest('hex').slice(0, 12)}.`);
    }
    for (const old of ['/static/htmx.min.js', '/static/app.css', HTMX.path.replace(/\.\w+\.js$/, '.000000000000.js')]) {
      const res = await f.app.request(old);
      expect([old, res.status, res.headers.get('cache-control')]).toEqual([old, 404, 'no-store']);
    }
  });

  it.each<[string, string[], string[], string[]]>([
    ['127.0.0.1', [], ['127.0.0.1:8080', 'localhost:8080', '[::1]:8080', 'localhost'], ['evil.example:8080', 'evil.example', '[::1]anything', '127.0.0.2:8080', '192.168.1.10:8080']],
    ['127.0.0.2', [], ['127.0.0.2:8080', 'localhost:8080'], ['evil.example:8080']],
    ['0.0.0.0', [], ['localhost:8080', '127.0.0.1:8080', '192.168.1.10:8080', '[::1]:8080'], ['evil.example:8080', 'box.lan:8080']],
    ['::', [], ['[fd00::5]:8080', '10.0.0.5'], ['evil.example:8080']],
    ['192.168.1.10', [], ['192.168.1.10:8080'], ['evil.example:8080', 'localhost:8080', '192.168.1.11:8080']],
    ['0.0.0.0', ['dash.example.com', 'box.lan'], ['dash.example.com', 'dash.example.com:8443', 'box.lan:8080'], ['evil.example:8080', 'x.dash.example.com']],
  ])('bound to %s, with --allowed-host %j, answers to %j and refuses %j (DNS rebinding)', async (bind, extra, answered, refused) => {
    const app = createDashboard({ state: f.state, refreshSeconds: 0, activity: () => Promise.resolve([]), activitySource: 'none', allowedHosts: allowedHostsFor(bind, extra) });
    for (const host of answered) expect([host, (await app.request('/healthz', { headers: { host } })).status]).toEqual([host, 200]);
    for (const host of refused) expect([host, (await app.request('/healthz', { headers: { host } })).status]).toEqual([host, 403]);
  });

  it('says which Host it refused and what to start it with to answer to it', async () => {
    const app = createDashboard({ state: f.state, refreshSeconds: 0, activity: () => Promise.resolve([]), activitySource: 'none', allowedHosts: allowedHostsFor('0.0.0.0') });
    const res = await app.request('/', { headers: { host: 'Dash.Example.com:8080' } });
    expect([res.status, res.headers.get('content-type')]).toEqual([403, 'text/plain; charset=UTF-8']);
    expect(await res.text()).toBe(
      'This dashboard does not answer to Host "Dash.Example.com:8080", so that a web page cannot reach it through DNS rebinding. If dash.example.com is how you reach it (through a reverse proxy or an SSH tunnel, say), start the dashboard with --allowed-host dash.example.com.\n',
    );
    const odd = await app.request('/', { headers: { host: '[::1]any\u001bthing' } });
    expect(await odd.text()).toBe(
      'This dashboard does not answer to Host "[::1]any?thing", so that a web page cannot reach it through DNS rebinding. Start the dashboard with --allowed-host NAME for each host name it is reached by.\n',
    );
  });
});

describe('a dashboard whose pool names a group that does not exist', () => {
  let f: DashboardFleet;
  let app: ReturnType<typeof createDashboard>;
  const typo = 'sg-0123456789abcdef0';
  beforeAll(async () => {
    f = await startDashboardFleet();
    const config = parseConfig(configYaml([typo, ...f.pool], f.config.targets[1]!.groupIds[0]!, f.sb.url), f.configFile, {});
    const state = new FleetState({ load: () => loadFleetView({ config, ec2: f.ec2 }), maxAgeMs: 60_000 });
    app = createDashboard({ state, refreshSeconds: 0, activity: () => Promise.resolve([]), activitySource: 'none' });
  });
  afterAll(() => f.close());

  it('shows it on the Targets page as not existing, where the configuration lists it, with no gauge of room', async () => {
    const html = await (await app.request('/targets')).text();
    expect(html).toContain(`<div class="gauge missing" data-group="${typo}" data-family="ipv4" data-missing="true">`);
    expect(html).toContain('targets[0].groups[0]');
    expect(html).not.toContain(`aria-label="${typo} ipv4 rules used"`);
    for (const groupId of f.pool) expect(html).toContain(`data-group="${groupId}" data-family="ipv4" data-used=`);
  });

  it('names it on the Drift page, and plans nothing into it', async () => {
    const html = await (await app.request('/drift')).text();
    expect(html).toMatch(new RegExp(`<p class="banner" role="alert">Security group ${typo} \\(targets\\[0\\]\\.groups\\[0\\] in [^)]*\\) does not exist in us-east-1`));
    const adds = html.match(/<caption>Would add \(\d+\)<\/caption>.*?<\/table>/s)?.[0] ?? '';
    expect(adds).not.toContain(typo);
  });
});

describe('a dashboard started with --allow-apply', () => {
  let f: DashboardFleet;
  beforeAll(async () => {
    f = await startDashboardFleet({ allowApply: true, seed: 6 });
  });
  afterAll(() => f.close());

  const post = (form: Record<string, string>, headers: Record<string, string> = {}) =>
    f.app.request('http://127.0.0.1:8080/reconcile', { method: 'POST', body: new URLSearchParams(form), headers: { host: '127.0.0.1:8080', ...headers } });

  it('offers "Reconcile now" on the Drift page with its token', async () => {
    const html = await (await f.app.request('/drift')).text();
    expect(html).toContain('<form method="post" action="/reconcile"');
    expect(html).toContain(`<input type="hidden" name="token" value="${f.token}"/>`);
  });

  it.each([
    ['no token', {}, {}],
    ['a wrong token', { token: 'wrong' }, {}],
    ['the right token from another origin', { token: 'test-token-0123456789' }, { origin: 'https://evil.example' }],
    ['the right token in a cross-site request', { token: 'test-token-0123456789' }, { 'sec-fetch-site': 'cross-site' }],
  ])('refuses a POST with %s and changes nothing', async (_what, form, headers) => {
    const res = await post(form, headers);
    expect(res.status).toBe(403);
    expect(inbound(f, f.pool[0]!, 'ipv4')).toBe(0);
  });

  it('takes only POST at /reconcile', async () => {
    const get = await f.app.request('/reconcile');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('runs a pass for a same-origin POST with the token, and shows the changes', async () => {
    const res = await post({ token: f.token! }, { origin: 'http://127.0.0.1:8080', 'sec-fetch-site': 'same-origin' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/activity');
    expect(inbound(f, f.pool[0]!, 'ipv4')).toBe(4);
    const activity = await (await f.app.request('/activity')).text();
    expect(activity).toMatch(/Reconcile from this dashboard at [^:]+:\d\d:\d\dZ: \d+ added, 0 revoked/);
    expect(activity.match(/data-action="authorize"/g)?.length).toBeGreaterThan(5);
    const targets = await (await f.app.request('/targets')).text();
    expect(targets).toContain(`data-group="${f.pool[0]}" data-family="ipv4" data-used="4" data-quota="4"`);
  });
});

/** GET or POST over HTTP as a browser would, keeping the bytes as they came over the wire. */
function fetchRaw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: IncomingHttpHeaders; wire: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, wire: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const bodyOf = (r: { headers: IncomingHttpHeaders; wire: Buffer }) => (r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.wire) : r.wire).toString('utf8');

describe('a dashboard served over HTTP for a fleet of 20,000 instances', () => {
  const FLEET = 20_000;
  let f: DashboardFleet;
  let served: ServedDashboard;
  let url: string;
  const reconcile = vi.fn(() => Promise.resolve({ at: new Date(0).toISOString(), passId: 'p', added: 0, revoked: 0, errors: [] }));
  beforeAll(async () => {
    f = await startDashboardFleet();
    const demo = await f.state.view();
    // The demo fleet's rows, copied under new ids until there are 20,000 of them.
    const rows = Array.from({ length: FLEET }, (_, i) => {
      const row = demo.rows[i % demo.rows.length]!;
      return { ...row, instanceId: `i-${i.toString(16).padStart(17, '0')}` };
    });
    const big: FleetView = { ...demo, rows };
    const state = new FleetState({ load: () => Promise.resolve(big), reconcile, maxAgeMs: 60_000 });
    const app = createDashboard({ state, refreshSeconds: 10, activity: () => Promise.resolve([]), activitySource: 'none', token: 'test-token-0123456789', allowedHosts: allowedHostsFor('127.0.0.1') });
    served = await serveDashboard(app, { host: '127.0.0.1', port: 0 });
    url = served.url;
  });
  afterAll(async () => {
    await served?.close();
    await f?.close();
  });

  it.each(['/', '/fragments/fleet'])('answers %s with one page of rows, whatever the size of the fleet, and counts them all', async (path) => {
    const res = await fetchRaw(`${url}${path}`);
    const html = bodyOf(res);
    expect(rowsOf(html)).toHaveLength(200);
    expect(html).toContain('Showing 1–200 of 20,000 instances');
    expect(html).toContain(`<div class="card" data-count="instances"><span class="n">${FLEET}</span>`);
    // A page's worth of rows, whatever the size of the fleet; all 20,000 would be megabytes.
    expect(res.wire.length).toBeLessThan(300_000);
  });

  it.each([
    ['?page=2', 'Showing 201–400 of 20,000 instances', 'page=3'],
    ['?page=100', 'Showing 19,801–20,000 of 20,000 instances', undefined],
    ['?page=5000', 'Showing 19,801–20,000 of 20,000 instances', undefined],
    ['?page=-1', 'Showing 1–200 of 20,000 instances', 'page=2'],
    ['?page=next', 'Showing 1–200 of 20,000 instances', 'page=2'],
  ])('pages %s', async (query, shown, next) => {
    const html = bodyOf(await fetchRaw(`${url}/fragments/fleet${query}`));
    expect(rowsOf(html)).toHaveLength(200);
    expect(html).toContain(shown);
    if (next) expect(html).toContain(`<a id="pager-top-next" href="/?${next}"`);
    else expect(html).not.toContain('id="pager-top-next"');
  });

  it('puts the page a page link asked for in the address bar, and not a refresh of it', async () => {
    const link = await fetchRaw(`${url}/fragments/fleet?sort=attention&page=3`, { headers: { 'hx-request': 'true', 'hx-trigger': 'pager-bottom-next' } });
    expect(link.headers['hx-push-url']).toBe('/?sort=attention&page=3');
    const poll = await fetchRaw(`${url}/fragments/fleet?sort=attention&page=3`, { headers: { 'hx-request': 'true', 'hx-trigger': 'fleet' } });
    expect(poll.headers['hx-push-url']).toBeUndefined();
  });

  it.each(['/', '/fragments/fleet?page=7', '/targets', '/fragments/targets', '/drift', '/fragments/drift', '/activity', HTMX.path, STYLESHEET.path])(
    'compresses %s for a browser that accepts gzip, and not for one that does not',
    async (path) => {
      const gzip = await fetchRaw(`${url}${path}`, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
      expect(gzip.status).toBe(200);
      expect(gzip.headers['content-encoding']).toBe('gzip');
      expect(gzip.headers.vary).toMatch(/accept-encoding/i);
      expect(gzip.headers['content-security-policy']).toContain("script-src 'self'");
      const plain = await fetchRaw(`${url}${path}`);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(bodyOf(gzip)).toBe(plain.wire.toString('utf8'));
      expect(gzip.wire.length).toBeLessThan(plain.wire.length);
    },
  );

  it('takes the reconcile form POST as before from a browser that accepts gzip', async () => {
    const refused = await fetchRaw(`${url}/reconcile`, { method: 'POST', headers: { 'accept-encoding': 'gzip', 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, body: 'token=test-token-0123456789' });
    expect(refused.status).toBe(403);
    expect(reconcile).not.toHaveBeenCalled();
    const ok = await fetchRaw(`${url}/reconcile`, { method: 'POST', headers: { 'accept-encoding': 'gzip', 'content-type': 'application/x-www-form-urlencoded', origin: url, 'sec-fetch-site': 'same-origin' }, body: 'token=test-token-0123456789' });
    expect([ok.status, ok.headers.location]).toEqual([303, '/activity']);
    expect(reconcile).toHaveBeenCalledTimes(1);
  });
});
