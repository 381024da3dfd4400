/**
 * The dashboard writes every value as text: a fleet whose tags, names,
 * descriptions, rule ids, region failures, warnings and audit records carry
 * markup renders without a single tag or attribute it did not write itself.
 * It changes nothing for a cross-site request, refuses every method it does
 * not serve, and sends its security headers on every answer.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Hono } from 'hono';
import { parseConfig, type LoadedConfig } from '../../src/config/index.js';
import type { AuditRecord } from '../../src/controller/audit.js';
import type { Member, ObservedRule } from '../../src/core/model.js';
import { TAG } from '../../src/core/ownership.js';
import { createDashboard } from '../../src/dashboard/app.js';
import { loadFleetView } from '../../src/dashboard/fleet-source.js';
import { FleetState } from '../../src/dashboard/fleet-state.js';
import { HTMX, STYLESHEET } from '../../src/dashboard/static-assets.js';
import { allowedHostsFor } from '../../src/http/allowed-hosts.js';
import { capturingEc2, HOSTILE, hostileFailure, PAYLOADS } from './hostile-fleet.js';

const POOL = ['sg-0a1b2c3d4e5f60718', 'sg-0a1b2c3d4e5f60719'];
const HOST = '127.0.0.1:8080';
const TOKEN = 'form-token-0123456789abcdef0123456789abcdef';

/** The only elements and attributes the dashboard's own templates write. */
const OWN_TAGS = new Set(['html', 'head', 'meta', 'title', 'link', 'script', 'body', 'a', 'header', 'span', 'nav', 'ul', 'li', 'main', 'h1', 'h2', 'h3', 'section', 'div', 'p', 'table', 'caption', 'thead', 'tbody', 'tr', 'th', 'td', 'form', 'label', 'input', 'select', 'option', 'button', 'meter', 'small', 'code', 'strong', 'svg', 'polyline', 'path', 'line', 'rect', 'g', 'text', 'circle', 'br']);
const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'hx-get', 'hx-post', 'hx-push-url', 'xlink:href']);

interface Tag {
  name: string;
  closing: boolean;
  attributes: [string, string][];
}

/**
 * The tags of a document, read the way a browser's tokenizer reads them:
 * `<` then a letter opens a tag, attribute values run to their closing quote.
 * Text that an escaper handled correctly yields no tags at all.
 */
function tagsOf(html: string): Tag[] {
  const tags: Tag[] = [];
  let i = 0;
  while ((i = html.indexOf('<', i)) >= 0) {
    const open = /^<\/?([a-zA-Z][a-zA-Z0-9:-]*)/.exec(html.slice(i, i + 64));
    if (!open) {
      i++;
      continue;
    }
    const tag: Tag = { name: open[1]!.toLowerCase(), closing: open[0].startsWith('</'), attributes: [] };
    i += open[0].length;
    for (;;) {
      while (/\s|\//.test(html[i] ?? '')) i++;
      if (i >= html.length || html[i] === '>') break;
      const name = /^[^\s=>/]+/.exec(html.slice(i))?.[0] ?? html[i]!;
      i += name.length;
      let value = '';
      if (html[i] === '=') {
        i++;
        const quote = html[i];
        if (quote === '"' || quote === "'") {
          const close = html.indexOf(quote, i + 1);
          value = html.slice(i + 1, close < 0 ? html.length : close);
          i = close < 0 ? html.length : close + 1;
        } else {
          value = /^[^\s>]*/.exec(html.slice(i))?.[0] ?? '';
          i += value.length;
        }
      }
      tag.attributes.push([name.toLowerCase(), value]);
    }
    tags.push(tag);
  }
  return tags;
}

function expectOnlyOwnMarkup(html: string): void {
  const tags = tagsOf(html);
  expect(tags.map((t) => t.name).filter((n) => !OWN_TAGS.has(n))).toEqual([]);
  for (const t of tags) {
    for (const [name, value] of t.attributes) {
      expect(name, `<${t.name} ${name}>`).not.toMatch(/^on|^srcdoc$|^style$|^formaction$/);
      expect(name, `<${t.name} ${name}>`).toMatch(/^[a-z][a-z0-9:-]*$/);
      if (URL_ATTRIBUTES.has(name)) expect(value.replace(/&[a-z]+;|&#\d+;/g, '').trim()).not.toMatch(/^(javascript|data|vbscript):/i);
    }
    if (t.name === 'script' && !t.closing) expect(t.attributes).toEqual([['src', HTMX.path], ['defer', '']]);
  }
  // A payload with markup never survives in its raw form, in text or in an attribute.
  for (const p of PAYLOADS.filter((x) => x.includes('<'))) expect(html).not.toContain(p);
}

function member(id: string, region: string, extra: Partial<Member> = {}): Member {
  return { instanceId: id, region, state: 'running', publicIpv4: '54.1.2.3', privateIpv4: '10.0.0.1', ipv6: [], tags: { role: 'api', Name: HOSTILE, [HOSTILE]: HOSTILE }, instanceType: HOSTILE, launchTime: HOSTILE, ...extra };
}

function hostileWorld() {
  const rule = (ruleId: string, cidr: string, tags: Record<string, string>, description = HOSTILE): ObservedRule => ({ ruleId, groupId: POOL[0]!, family: 'ipv4', protocol: 'tcp', fromPort: 443, toPort: 443, cidr, description, tags });
  const managed = (instance: string, extra: Record<string, string> = {}) => ({ [TAG.managedBy]: 'prod', [TAG.target]: 'api', [TAG.instance]: instance, [TAG.region]: 'eu-west-1', [TAG.registeredAt]: '2020-01-01T00:00:00Z', ...extra });
  return {
    members: {
      'eu-west-1': [
        member('i-0000000000000000a', 'eu-west-1'),
        member('i-0000000000000000b', 'eu-west-1', { publicIpv4: HOSTILE }),
        member('i-0000000000000000c', 'eu-west-1', { state: 'stopped' }),
      ],
      'us-west-2': hostileFailure(),
    },
    rules: [
      rule('sgr-open', '0.0.0.0/0', { Name: HOSTILE }),
      rule(`sgr-${HOSTILE}`, '54.9.9.9/32', managed(HOSTILE)),
      rule('sgr-stopped', '54.1.2.3/32', managed('i-0000000000000000c')),
      rule('sgr-ghost-target', '54.1.2.5/32', managed('i-0000000000000000a', { [TAG.target]: HOSTILE })),
      rule('sgr-garbage', HOSTILE, managed('i-0000000000000000a')),
    ],
  };
}

const audit: AuditRecord[] = [
  { time: HOSTILE, passId: HOSTILE, deployment: 'prod', actor: HOSTILE, action: 'authorize', target: HOSTILE, group: HOSTILE, groupRegion: HOSTILE, ruleId: HOSTILE, cidr: HOSTILE, instance: HOSTILE, region: HOSTILE, reason: HOSTILE },
];

function dashboard(config: LoadedConfig, reconcile?: () => Promise<{ at: string; passId: string; added: number; revoked: number; errors: string[] }>, bind = '127.0.0.1'): Hono {
  const ec2 = capturingEc2(hostileWorld());
  const state = new FleetState({ load: () => loadFleetView({ config, ec2 }), reconcile, maxAgeMs: 60_000 });
  return createDashboard({ state, refreshSeconds: 5, activity: () => Promise.resolve(audit), activitySource: HOSTILE, allowedHosts: allowedHostsFor(bind), token: TOKEN });
}

const get = (app: Hono, path: string, headers: Record<string, string> = {}) => app.request(path, { headers: { host: HOST, ...headers } });

let config: LoadedConfig;
let app: Hono;
const reconcile = vi.fn(() => Promise.resolve({ at: new Date(0).toISOString(), passId: HOSTILE, added: 1, revoked: 0, errors: [HOSTILE] }));
beforeAll(() => {
  config = parseConfig(
    ['deployment: prod', 'targets:', '  - name: api', '    region: us-east-1', `    groups: [${POOL.join(', ')}]`, '    ports: [443]', '    members: {regions: [eu-west-1, us-west-2], tags: {role: api}}', 'controller: {regions: [eu-west-1, us-west-2]}'].join('\n'),
    'sgsync.yaml',
  );
  app = dashboard(config, reconcile);
});
afterAll(() => vi.restoreAllMocks());

describe('the dashboard over a fleet full of markup', () => {
  it.each(['/', '/targets', '/drift', '/activity', '/fragments/fleet', '/fragments/targets', '/fragments/drift', '/fragments/activity'])('renders %s with no markup but its own', async (path) => {
    const res = await get(app, path);
    expect(res.status).toBe(200);
    const html = await res.text();
    expectOnlyOwnMarkup(html);
    // The hostile text is there, as text.
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it.each(['/', '/targets', '/drift', '/activity', '/fragments/fleet', '/fragments/drift'])('shows in %s the bidi and line-breaking characters of AWS text as their code points, never obeys them', async (path) => {
    const html = await (await get(app, path)).text();
    // HOSTILE has a right-to-left override; a Name "evil" + U+202E + "txt.exe" would read "evilexe.txt".
    expect(html).not.toMatch(/[\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    expect(html).toContain('[U+202E]&lt;b&gt;gnp.exe&lt;/b&gt;');
  });

  it('writes hostile filter values back into the page only as text', async () => {
    const q = new URLSearchParams({ q: PAYLOADS[1]!, region: PAYLOADS[0]!, state: PAYLOADS[2]!, target: PAYLOADS[4]!, status: PAYLOADS[3]! });
    for (const path of [`/?${q.toString()}`, `/fragments/fleet?${q.toString()}`]) expectOnlyOwnMarkup(await (await get(app, path, { 'hx-trigger': 'filters' })).text());
  });

  it('puts a hostile filter into the address bar only URL-encoded', async () => {
    const q = new URLSearchParams({ q: 'a\r\nSet-Cookie: x=1 <script>' });
    const res = await get(app, `/fragments/fleet?${q.toString()}`, { 'hx-trigger': 'filters' });
    expect(res.headers.get('hx-push-url')).toBe('/?q=a%0D%0ASet-Cookie%3A+x%3D1+%3Cscript%3E');
    expect(res.headers.get('set-cookie')).toBeNull();
  });
});

describe('requests that would change something', () => {
  const post = (headers: Record<string, string>, body = `token=${TOKEN}`, method = 'POST') =>
    app.request('/reconcile', { method, headers: { host: HOST, 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });

  it.each<[string, Record<string, string>, string?]>([
    ['from a foreign Origin', { origin: 'https://evil.example' }],
    ['from an opaque Origin', { origin: 'null' }],
    ['marked cross-site by the browser', { 'sec-fetch-site': 'cross-site' }],
    ['from a sibling site', { 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:9999' }],
    ['without the form token', { origin: `http://${HOST}` }, ''],
    ['with a wrong token', { origin: `http://${HOST}` }, `token=${'x'.repeat(TOKEN.length)}`],
    ['with the token in a JSON body', { origin: `http://${HOST}`, 'content-type': 'application/json' }, JSON.stringify({ token: TOKEN })],
    ['to another host name (DNS rebinding)', { host: 'evil.example:8080', origin: 'http://evil.example:8080' }],
  ])('refuses a POST %s with 403 and runs nothing', async (_what, headers, body) => {
    const res = await post(headers, body);
    expect(res.status).toBe(403);
    expect(reconcile).not.toHaveBeenCalled();
  });

  it.each(['PUT', 'PATCH', 'DELETE'])('serves no %s on any route', async (method) => {
    for (const path of ['/', '/reconcile', '/drift', '/activity', '/healthz', STYLESHEET.path]) {
      const res = await app.request(path, { method, headers: { host: HOST, origin: `http://${HOST}` }, body: `token=${TOKEN}` });
      expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
    }
    expect(reconcile).not.toHaveBeenCalled();
  });

  it('serves no POST at all when it is read-only', async () => {
    const readOnly = createDashboard({ state: new FleetState({ load: () => loadFleetView({ config, ec2: capturingEc2(hostileWorld()) }), maxAgeMs: 60_000 }), refreshSeconds: 0, activity: () => Promise.resolve([]), activitySource: 'test' });
    // No reconcile endpoint at all; the pages answer that they take GET only.
    expect((await readOnly.request('/reconcile', { method: 'POST', body: `token=${TOKEN}` })).status).toBe(404);
    for (const path of ['/', '/drift']) {
      const res = await readOnly.request(path, { method: 'POST', body: `token=${TOKEN}` });
      expect([res.status, res.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    }
    expect(await (await readOnly.request('/drift')).text()).not.toContain('action="/reconcile"');
  });

  it('runs a pass for its own form, and only then', async () => {
    const res = await post({ origin: `http://${HOST}`, 'sec-fetch-site': 'same-origin' });
    expect(res.status).toBe(303);
    expect(reconcile).toHaveBeenCalledTimes(1);
    expectOnlyOwnMarkup(await (await get(app, '/activity')).text());
  });
});

describe('a page that rebinds its own name to the dashboard (DNS rebinding)', () => {
  const EVIL = 'evil.example:8080';
  it.each([['0.0.0.0'], ['::'], ['192.168.1.10'], ['127.0.0.2']])('gets nothing from a dashboard bound to %s: no fleet, no form token, no pass', async (bind) => {
    const pass = vi.fn(() => Promise.resolve({ at: new Date(0).toISOString(), passId: 'p', added: 0, revoked: 0, errors: [] }));
    const exposed = dashboard(config, pass, bind);
    for (const path of ['/', '/drift', '/fragments/drift', '/fragments/fleet', '/healthz']) {
      const res = await get(exposed, path, { host: EVIL });
      expect([path, res.status]).toEqual([path, 403]);
      const text = await res.text();
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain('i-0000000000000000a');
    }
    const res = await exposed.request('/reconcile', {
      method: 'POST',
      headers: { host: EVIL, origin: `http://${EVIL}`, 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${TOKEN}`,
    });
    expect(res.status).toBe(403);
    expect(pass).not.toHaveBeenCalled();
  });
});

describe('the security headers', () => {
  it.each<[string, string, Record<string, string>?]>([
    ['a page', '/'],
    ['a fragment', '/fragments/drift'],
    ['a script', HTMX.path],
    ['a missing page', '/no-such-page'],
    ['a refused host', '/', { host: 'evil.example' }],
  ])('come with %s', async (_what, path, headers) => {
    const res = await get(app, path, headers);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
    expect(res.headers.get('content-security-policy')).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });
});
