/**
 * The dashboard: a Hono app rendered on the server, with htmx (served from
 * this process, never a CDN) re-fetching each page's live section. Read-only
 * unless built with a reconcile function (`--allow-apply`); then one POST,
 * guarded against cross-site requests, runs a pass.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { compress } from 'hono/compress';
import { html } from 'hono/html';
import type { JSX } from 'hono/jsx/jsx-runtime';
import type { AuditRecord } from '../controller/audit.js';
import { messageOf } from '../core/errors.js';
import { hostAllowed, quotedHost, suggestedEntry, type AllowedHosts } from '../http/allowed-hosts.js';
import { refuseCrossSite, newToken } from './csrf.js';
import { isRuleStatus, type FleetFilter } from './fleet-filter.js';
import { pageNumber, PAGE_SIZE } from './fleet-page.js';
import type { FleetState } from './fleet-state.js';
import type { FleetView } from './fleet-view.js';
import { Freshness, Layout, ReadAt, shortTime, type PageName } from './layout.js';
import { ActivitySection } from './pages/activity.js';
import { DriftSection } from './pages/drift.js';
import { FleetFilters, FleetSection, filterQuery, sortOf, type FleetPosition } from './pages/fleet.js';
import { TargetsSection } from './pages/targets.js';
import { ASSET_CACHE_CONTROL, STATIC_ASSETS } from './static-assets.js';
import { visibleText } from './visible-text.js';

export interface DashboardOptions {
  state: FleetState;
  /** Seconds between live refreshes of a page; 0 turns refreshing off. */
  refreshSeconds: number;
  /** The newest audit records, newest first; and where they come from, in words. */
  activity: () => Promise<AuditRecord[]>;
  activitySource: string;
  /** Host names the dashboard answers to (DNS-rebinding guard; `allowedHostsFor`); absent: any, for tests in-process. */
  allowedHosts?: AllowedHosts;
  /** The form token; a fresh random one by default. */
  token?: string;
  /** Rows per page of the Fleet table. */
  pageSize?: number;
}

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  // Not no-referrer: with it, browsers send `Origin: null` on the form POST, and the Origin check cannot tell same-site from forged.
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

/** Why a request's Host is refused, and the option that would let it in. */
function hostRefusal(header: string | undefined): string {
  const name = suggestedEntry(header);
  const how = name
    ? `If ${name} is how you reach it (through a reverse proxy or an SSH tunnel, say), start the dashboard with --allowed-host ${name}.`
    : 'Start the dashboard with --allowed-host NAME for each host name it is reached by.';
  return `This dashboard does not answer to ${quotedHost(header)}, so that a web page cannot reach it through DNS rebinding. ${how}\n`;
}

function filterOf(c: Context): FleetFilter {
  const q = (name: string) => c.req.query(name)?.trim() || undefined;
  const status = q('status');
  return {
    q: q('q'),
    regions: q('region') ? [q('region') as string] : undefined,
    states: q('state') ? [q('state') as string] : undefined,
    target: q('target'),
    status: isRuleStatus(status) ? status : undefined,
  };
}

function positionOf(c: Context): FleetPosition {
  return { sort: sortOf(c.req.query('sort')), page: pageNumber(c.req.query('page')) };
}

/** Requests that move to another filter or page of the Fleet table (not its refresh): the address bar follows them. */
const NAVIGATES = /^(filters$|pager-)/;

/** The banner over a view the last read could not replace; undefined while reads succeed. */
function staleness(state: FleetState, view: FleetView | undefined): string | undefined {
  if (state.lastError === undefined) return undefined;
  const failed = `The last refresh failed at ${shortTime(state.failedAt)} (${state.lastError})`;
  return view ? `${failed}; this is the view of ${shortTime(view.at)}.` : `${failed}; the fleet has not been read yet.`;
}

/** A whole page: the doctype (a constant) before the escaped JSX tree. */
function document(node: JSX.Element) {
  return html`<!doctype html>${node}`;
}

/** Builds the app. Serve it with `serveDashboard`, or call `app.request()` in tests. */
export function createDashboard(options: DashboardOptions): Hono {
  const { state, refreshSeconds: refresh } = options;
  const token = state.canReconcile ? (options.token ?? newToken()) : undefined;
  const pageSize = options.pageSize ?? PAGE_SIZE;
  const app = new Hono();

  // Outermost, so it compresses the answer as the browser gets it: after the headers and the text rewrite below.
  app.use(compress());
  app.use(guard(options.allowedHosts));

  const page = async (c: Context, title: PageName, body: (view: FleetView) => unknown) => {
    let view: FleetView;
    try {
      view = await state.view();
    } catch (e) {
      return c.html(document(<Layout title={title} active={title} problem={`The fleet could not be read: ${messageOf(e)}`} />), 503);
    }
    return c.html(
      document(
        <Layout title={title} active={title} at={view.at} age={state.ageOf(view)} deployment={view.deployment} problem={staleness(state, view)}>
          {body(view) as JSX.Element}
        </Layout>,
      ),
    );
  };
  /** What every refreshed section carries out of band: when its data was read, and whether the last read failed. */
  const freshness = (view: FleetView | undefined) => (
    <>
      <ReadAt deployment={view?.deployment} at={view?.at} age={view ? state.ageOf(view) : undefined} oob />
      <Freshness problem={staleness(state, view)} oob />
    </>
  );
  const fragment = async (c: Context, body: (view: FleetView) => unknown) => {
    let view: FleetView;
    try {
      view = await state.view();
    } catch (e) {
      // Nothing to show: the page keeps what it has (no main swap), and says why above it.
      c.header('hx-reswap', 'none');
      return c.html(<Freshness problem={`The fleet could not be read: ${messageOf(e)}`} oob />);
    }
    return c.html(
      <>
        {body(view) as JSX.Element}
        {freshness(view)}
      </>,
    );
  };

  app.get('/', (c) => {
    const [filter, position] = [filterOf(c), positionOf(c)];
    return page(c, 'Fleet', (v) => <><FleetFilters view={v} filter={filter} sort={position.sort} /><FleetSection view={v} filter={filter} position={position} pageSize={pageSize} refresh={refresh} /></>);
  });
  app.get('/fragments/fleet', (c) => {
    const [filter, position] = [filterOf(c), positionOf(c)];
    // The filter form or a page link asked: make the address bar show that page, so it can be bookmarked.
    if (NAVIGATES.test(c.req.header('hx-trigger') ?? '')) {
      const query = filterQuery(filter, position);
      c.header('hx-push-url', `/${query ? `?${query}` : ''}`);
    }
    return fragment(c, (v) => <FleetSection view={v} filter={filter} position={position} pageSize={pageSize} refresh={refresh} />);
  });
  /** A page whose live section is the same whole and as a fragment. */
  const section = (path: string, title: PageName, render: (view: FleetView) => unknown) => {
    app.get(path, (c) => page(c, title, render));
    app.get(`/fragments${path}`, (c) => fragment(c, render));
  };
  section('/targets', 'Targets', (v) => <TargetsSection view={v} history={state.history} refresh={refresh} />);
  section('/drift', 'Drift', (v) => <DriftSection view={v} refresh={refresh} token={token} />);

  const activity = async () => {
    // A log that cannot be read is said on the page, which keeps polling and shows the log once it can be read.
    const read = await options.activity().then(
      (records) => ({ records, problem: undefined }),
      (e: unknown) => ({ records: [], problem: messageOf(e) }),
    );
    const last = state.lastReconcile;
    const note = last
      ? `Reconcile from this dashboard at ${shortTime(last.at)}: ${last.added} added, ${last.revoked} revoked${last.errors.length ? `, errors: ${last.errors.join('; ')}` : ''}.`
      : undefined;
    return <ActivitySection records={read.records} problem={read.problem} source={options.activitySource} refresh={refresh} note={note} />;
  };
  app.get('/activity', async (c) => {
    const section = await activity();
    return page(c, 'Activity', () => section);
  });
  // The audit log is read every time; the fleet is not read for it, only the time of its last read shown.
  app.get('/fragments/activity', async (c) => c.html(<>{await activity()}{freshness(state.latest)}</>));

  for (const a of STATIC_ASSETS) app.get(a.path, (c) => c.body(a.body, 200, { 'content-type': a.contentType }));
  app.get('/favicon.ico', (c) => c.body(null, 204));
  app.get('/healthz', (c) => c.json({ status: 'ok', readOnly: token === undefined }));

  if (token !== undefined) {
    app.post('/reconcile', async (c) => {
      const form: unknown = await c.req.parseBody().catch(() => ({}));
      const given = (form as Record<string, unknown>).token;
      const refusal = refuseCrossSite({
        token: typeof given === 'string' ? given : undefined,
        expected: token,
        origin: c.req.header('origin'),
        secFetchSite: c.req.header('sec-fetch-site'),
        host: c.req.header('host'),
      });
      if (refusal) return c.text(`Refused: ${refusal}. Use the "Reconcile now" button on the Drift page.`, 403);
      await state.reconcile();
      return c.redirect('/activity', 303);
    });
  }

  answerOtherMethods(app);
  return app;
}

/**
 * What every answer goes through: the host-name check (DNS rebinding), the
 * security headers, caching only for the static assets, and the text
 * rewrite of every page.
 */
function guard(allowedHosts: AllowedHosts | undefined): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header('host');
    if (allowedHosts && !hostAllowed(host, allowedHosts)) {
      // The refusal carries the headers too: it is a page a browser renders like any other.
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v);
      return c.text(hostRefusal(host), 403);
    }
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v);
    // Its path names its content, so it may be kept; everything else is read afresh.
    if (c.res.status === 200 && STATIC_ASSETS.some((a) => a.path === c.req.path)) c.header('cache-control', ASSET_CACHE_CONTROL);
    // Escaping keeps AWS text from being markup; this keeps it from reordering what is shown.
    if (c.res.headers.get('content-type')?.startsWith('text/html')) {
      const text = visibleText(await c.res.text());
      c.res = new Response(text, c.res);
      // Known length: compression skips answers too small to gain from it.
      c.res.headers.set('content-length', String(Buffer.byteLength(text)));
    }
  };
}

/** A page asked for with a method it does not take: 405 with those it does, as HTTP has it, not 404. Added after every route. */
function answerOtherMethods(app: Hono): void {
  const methods = new Map<string, Set<string>>();
  for (const r of app.routes) if (r.method !== 'ALL') methods.set(r.path, (methods.get(r.path) ?? new Set()).add(r.method));
  app.all('*', (c) => {
    const taken = methods.get(c.req.path);
    if (!taken) return c.notFound();
    const allow = [...taken, ...(taken.has('GET') ? ['HEAD'] : [])].join(', ');
    // Nothing of the request is echoed back.
    return c.text(`Method not allowed: this page takes ${allow}.`, 405, { allow });
  });
}
