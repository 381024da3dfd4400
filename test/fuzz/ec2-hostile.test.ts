/**
 * The EC2 adapter, with the real SDK client, against an endpoint that answers
 * hostile XML: every failure is an SgsyncError with a code (a region whose
 * inventory fails keeps its rules), listings end even when NextToken loops,
 * and what a garbled answer contains never becomes a wider rule or a revoke
 * of anything but this deployment's own rules.
 */
import fc from 'fast-check';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Ec2Adapter } from '../../src/aws/ec2-adapter.js';
import { parseConfig } from '../../src/config/index.js';
import { controllerPass } from '../../src/controller/pass.js';
import { parseCidr } from '../../src/core/addresses.js';
import { SgsyncError } from '../../src/core/errors.js';
import type { ObservedRule } from '../../src/core/model.js';
import { TAG } from '../../src/core/ownership.js';
import { startHostileServer, trickle, type Handler, type HostileServer } from './hostile-server.js';

process.env.AWS_ACCESS_KEY_ID = 'AKIDFUZZ';
process.env.AWS_SECRET_ACCESS_KEY = 'fuzz-secret';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

setFlagsFromString('--expose-gc');
/** A full collection of the heap. */
const collectGarbage = runInNewContext('gc') as () => void;

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const GROUP = 'sg-0a1b2c3d4e5f60718';

type Fields = Record<string, string | Record<string, string> | undefined>;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
function item(fields: Fields): string {
  let out = '<item>';
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out += typeof v === 'string' ? `<${k}>${esc(v)}</${k}>` : `<${k}>${Object.entries(v).map(([key, value]) => `<item><key>${esc(key)}</key><value>${esc(value)}</value></item>`).join('')}</${k}>`;
  }
  return `${out}</item>`;
}
const response = (action: string, body: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS}"><requestId>req-1</requestId>${body}</${action}Response>`;
const rulesPage = (items: Fields[], nextToken?: string) =>
  response('DescribeSecurityGroupRules', `<securityGroupRuleSet>${items.map(item).join('')}</securityGroupRuleSet>${nextToken ? `<nextToken>${nextToken}</nextToken>` : ''}`);
const errorBody = (code: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>no &lt;b&gt;</Message></Error></Errors><RequestID>r</RequestID></Response>`;

const managed = (instance: string, region: string) => ({ [TAG.managedBy]: 'prod', [TAG.target]: 'api', [TAG.instance]: instance, [TAG.region]: region, [TAG.registeredAt]: '2020-01-01T00:00:00Z' });
const rule = (id: string, cidr: string, tags: Record<string, string> = {}, extra: Fields = {}): Fields => ({
  securityGroupRuleId: id, groupId: GROUP, groupOwnerId: '123456789012', isEgress: 'false', ipProtocol: 'tcp', fromPort: '443', toPort: '443',
  ...(cidr.includes(':') ? { cidrIpv6: cidr } : { cidrIpv4: cidr }), tagSet: tags, ...extra,
});

const xml = (body: string, status = 200): Handler => (_req, res) => void res.writeHead(status, { 'content-type': 'text/xml' }).end(body);

let server: HostileServer;
let adapter: Ec2Adapter;
beforeAll(async () => {
  server = await startHostileServer(xml(rulesPage([])));
});
afterEach(() => adapter?.clients.destroy());
afterAll(() => server.close());

async function listRules(handler: Handler, maxPages?: number): Promise<ObservedRule[] | SgsyncError> {
  server.answer(handler);
  adapter = new Ec2Adapter({ endpoint: server.url, maxAttempts: 1, ...(maxPages ? { maxPages } : {}) });
  try {
    return await adapter.listRules('us-east-1', [GROUP]);
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(SgsyncError);
    expect((e as SgsyncError).message).not.toMatch(/\n\s+at /);
    return e as SgsyncError;
  }
}

describe('DescribeSecurityGroupRules answered with hostile XML', () => {
  it.each<[string, Handler, string?]>([
    ['truncated XML', xml(rulesPage([rule('sgr-1', '54.1.2.3/32')]).slice(0, 180))],
    ['an HTML page', xml('<html><body><h1>502 Bad Gateway</h1></body></html>')],
    ['an empty body', xml('')],
    ['JSON instead of XML', xml('{"SecurityGroupRules": []}')],
    ['an entity expansion', xml(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "${'x'.repeat(1000)}"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><DescribeSecurityGroupRulesResponse xmlns="${NS}"><securityGroupRuleSet><item><description>&b;</description></item></securityGroupRuleSet></DescribeSecurityGroupRulesResponse>`)],
    ['a server error', xml(errorBody('InternalError'), 500), 'AWS_UNAVAILABLE'],
    ['throttling', xml(errorBody('RequestLimitExceeded'), 503), 'THROTTLED'],
    ['a denial', xml(errorBody('UnauthorizedOperation'), 403), 'PERMISSION_DENIED'],
    ['an unknown error code in markup', xml(errorBody('&lt;script&gt;alert(1)&lt;/script&gt;'), 400)],
  ])('ends %s in an SgsyncError, or reads only what parses', async (_what, handler, code) => {
    const out = await listRules(handler);
    if (code) expect(out).toMatchObject({ code });
    if (Array.isArray(out)) for (const r of out) expect(r.ruleId).toMatch(/^sgr-/);
  });

  it('stops a NextToken that comes back the same every time', async () => {
    const out = await listRules(xml(rulesPage([rule('sgr-1', '54.1.2.3/32')], 'again')));
    expect(out).toMatchObject({ code: 'AWS_UNAVAILABLE' });
    expect((out as SgsyncError).message).toContain('same page token');
  });

  it('stops a listing whose tokens never end', async () => {
    let n = 0;
    const out = await listRules((_req, res) => void res.end(rulesPage([rule(`sgr-${++n}`, '54.1.2.3/32')], `token-${n}`)), 20);
    expect(out).toMatchObject({ code: 'AWS_UNAVAILABLE' });
    expect(n).toBe(21);
  });

  it('gives up on an answer that never finishes', async () => {
    server.answer((_req, res) => trickle(res, rulesPage([]), 20));
    adapter = new Ec2Adapter({ endpoint: server.url, maxAttempts: 1, callTimeoutMs: 400 });
    await expect(adapter.listRules('us-east-1', [GROUP])).rejects.toMatchObject({ code: 'AWS_UNAVAILABLE' });
  });

  it('gives up on an answer that never finishes when the listing has a signal of its own too', async () => {
    server.answer((_req, res) => trickle(res, rulesPage([]), 20));
    adapter = new Ec2Adapter({ endpoint: server.url, maxAttempts: 1, callTimeoutMs: 400 });
    // Every controller pass lists with a signal to stop the listing early: the call's deadline still holds,
    // a collection of the heap meanwhile included (a signal of AbortSignal.any holds a timeout signal only weakly).
    const listing = adapter.listMembers('us-east-1', { signal: new AbortController().signal });
    setTimeout(collectGarbage, 100);
    await expect(listing).rejects.toMatchObject({ code: 'AWS_UNAVAILABLE' });
    expect(adapter.clients.stats.total({ outcome: 'error' })).toBe(1);
  });

  it('counts a listing its caller stops as cancelled, not as an error of AWS', async () => {
    server.answer((_req, res) => trickle(res, rulesPage([]), 20));
    adapter = new Ec2Adapter({ endpoint: server.url, maxAttempts: 1, callTimeoutMs: 60_000 });
    const stop = new AbortController();
    const listing = adapter.listMembers('us-east-1', { signal: stop.signal });
    setTimeout(() => stop.abort(), 200);
    await expect(listing).rejects.toBeInstanceOf(SgsyncError);
    expect(adapter.clients.stats.entries().map((e) => [e.action, e.outcome, e.count])).toEqual([['DescribeInstances', 'cancelled', 1]]);
  });

  it('reads a page of five thousand rules, and markup and unicode as plain text', async () => {
    const hostile = '<script>alert("x")</script> 🙂 \u202e';
    const items = Array.from({ length: 5000 }, (_, i) => rule(`sgr-${i}`, `54.0.${i >> 8}.${i & 255}/32`, { Name: hostile }, { description: hostile }));
    const out = await listRules(xml(rulesPage(items)));
    expect(out).toHaveLength(5000);
    expect((out as ObservedRule[])[4999]).toMatchObject({ description: hostile, tags: { Name: hostile } });
  });

  it('files a rule under the family of its address, whichever field carried it', async () => {
    const out = (await listRules(xml(rulesPage([rule('sgr-1', '54.1.2.3/32', {}, { cidrIpv4: '2600:1f18::5/128' }), rule('sgr-2', '2600:1f18::6/128', {}, { cidrIpv4: '54.1.2.4/32' })])))) as ObservedRule[];
    expect(out.map((r) => [r.ruleId, r.family, r.cidr])).toEqual([
      ['sgr-1', 'ipv6', '2600:1f18::5/128'],
      ['sgr-2', 'ipv6', '2600:1f18::6/128'],
    ]);
  });

  it('skips items without a rule id or group id, and keeps the rest', async () => {
    const out = await listRules(xml(rulesPage([{ ...rule('sgr-1', '54.1.2.3/32'), securityGroupRuleId: undefined }, { ...rule('sgr-2', '54.1.2.3/32'), groupId: undefined }, rule('sgr-3', '54.1.2.3/32')])));
    expect((out as ObservedRule[]).map((r) => r.ruleId)).toEqual(['sgr-3']);
  });

  it('answers any garbled page with rules or an SgsyncError', async () => {
    const valid = rulesPage([rule('sgr-1', '54.1.2.3/32', managed('i-0123456789abcdef0', 'eu-west-1')), rule('sgr-2', '0.0.0.0/0')]);
    const body = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.record({ at: fc.nat(valid.length), cut: fc.nat(20), insert: fc.constantFrom('', '<', '>', '&', ']]>', '<item>', '</item>', '<fromPort>x</fromPort>', '\u0000', '<!--', '&amp;', '<nextToken>t</nextToken>') }).map(({ at, cut, insert }) => valid.slice(0, at) + insert + valid.slice(at + cut)),
    );
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const out = await listRules(xml(b));
        if (Array.isArray(out)) for (const r of out) expect(typeof r.ruleId).toBe('string');
      }),
      { numRuns: 60 },
    );
  });
});

describe('a controller pass against a hostile EC2', () => {
  /** Parses `Key=Value&...` of a Query request. */
  const form = (body: string) => Object.fromEntries(new URLSearchParams(body));
  const regionOf = (auth: string | undefined) => /Credential=[^/]+\/[^/]+\/([^/]+)\//.exec(auth ?? '')?.[1] ?? '';

  const instance = (id: string, fields: Fields) => item({ instanceId: id, imageId: 'ami-1', instanceState: undefined, ...fields });
  const running = '<instanceState><code>16</code><name>running</name></instanceState>';
  const withState = (xmlItem: string, state = running) => xmlItem.replace('<item>', `<item>${state}`);
  const reservations = (items: string[]) => response('DescribeInstances', `<reservationSet><item><reservationId>r-1</reservationId><ownerId>123456789012</ownerId><instancesSet>${items.join('')}</instancesSet></item></reservationSet>`);

  it('authorizes only the verified single address, keeps a failed region\'s rules, and revokes only its own garbled rules', async () => {
    const sent: Record<string, string>[] = [];
    const GOOD = 'i-0000000000000000a';
    const ghostRule = rule('sgr-ghost', '54.9.9.9/32', managed('i-0000000000000000f', 'us-west-2'));
    const observed = [
      rule('sgr-garbage', 'not-a-cidr', managed(GOOD, 'eu-west-1')),
      rule('sgr-wide', '54.1.2.3/0', managed(GOOD, 'eu-west-1')),
      rule('sgr-nanport', '54.1.2.3/32', managed(GOOD, 'eu-west-1'), { fromPort: 'abc' }),
      ghostRule,
      rule('sgr-foreign', '0.0.0.0/0', {}),
      rule('sgr-staging', '54.1.2.4/32', { ...managed('i-00000000000000001', 'eu-west-1'), [TAG.managedBy]: 'staging' }),
    ];
    server.answer((req, res, body) => {
      const f = form(body);
      sent.push({ ...f, region: regionOf(req.headers.authorization) });
      const ok = (b: string) => void res.writeHead(200, { 'content-type': 'text/xml' }).end(b);
      switch (f.Action) {
        case 'DescribeInstances':
          if (regionOf(req.headers.authorization) === 'us-west-2') return ok(reservations([withState(instance('i-<script>', { ipAddress: '54.9.9.9' }))]));
          return ok(
            reservations([
              withState(instance(GOOD, { ipAddress: '54.1.2.3', privateIpAddress: '10.0.0.1', tagSet: { role: 'api', 'sgsync:address': '0.0.0.0/0', Name: '"><img src=x onerror=alert(1)>' } })),
              withState(instance('i-0000000000000000b', { ipAddress: '0.0.0.0', tagSet: { role: 'api' } })),
              withState(instance('i-0000000000000000c', { ipAddress: '10.1.2.3', tagSet: { role: 'api' } })),
              withState(instance('i-0000000000000000d', { ipAddress: '54.1.2.3/8', tagSet: { role: 'api' } })),
              withState(instance('i-0000000000000000e', { ipAddress: '54.7.7.7', tagSet: { role: 'api' } }), '<instanceState><code>99</code><name>&lt;hacked&gt;</name></instanceState>'),
            ]),
          );
        case 'DescribeSecurityGroupRules':
          return ok(rulesPage(observed));
        case 'AuthorizeSecurityGroupIngress':
          return ok(response('AuthorizeSecurityGroupIngress', '<return>true</return><securityGroupRuleSet></securityGroupRuleSet>'));
        case 'RevokeSecurityGroupIngress':
          return ok(response('RevokeSecurityGroupIngress', '<return>true</return>'));
        default:
          return void res.writeHead(400, { 'content-type': 'text/xml' }).end(errorBody('InvalidAction'));
      }
    });
    const config = parseConfig(
      ['deployment: prod', 'targets:', '  - name: api', '    region: us-east-1', `    groups: [${GROUP}]`, '    ports: [443]', '    members: {regions: [eu-west-1, us-west-2], tags: {role: api}}', 'controller: {regions: [eu-west-1, us-west-2]}', 'safety: {revokeLimit: {count: 50, fraction: 1}}', `aws: {endpoint: "${server.url}"}`].join('\n'),
      'sgsync.yaml',
    );
    adapter = new Ec2Adapter({ endpoint: server.url, maxAttempts: 1 });
    const result = await controllerPass({ config, ec2: adapter, apply: true, now: () => Date.UTC(2026, 0, 1) });

    expect(result.inventory.regionInventory['us-west-2']).toMatchObject({ status: 'failed' });
    const authorized = sent.filter((f) => f.Action === 'AuthorizeSecurityGroupIngress').flatMap((f) => Object.entries(f).filter(([k]) => /CidrIp(v6)?$/.test(k)).map(([, v]) => v));
    expect(authorized).toEqual(['54.1.2.3/32']);
    for (const cidr of authorized) expect(parseCidr(cidr)?.prefixLength).toBe(32);
    const revoked = sent.filter((f) => f.Action === 'RevokeSecurityGroupIngress').flatMap((f) => Object.entries(f).filter(([k]) => k.startsWith('SecurityGroupRuleId')).map(([, v]) => v));
    expect(revoked.sort()).toEqual(['sgr-garbage', 'sgr-nanport', 'sgr-wide']);
    expect(result.plan.foreign.find((f) => f.ruleId === 'sgr-foreign')?.dangerous).toBe(true);
    expect(result.plan.kept.map((k) => k.ruleId)).toContain('sgr-ghost');
  });
});
