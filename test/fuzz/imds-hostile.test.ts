/**
 * The agent's IMDSv2 client against a metadata service gone bad: every
 * hostile answer ends in the documented NOT_ON_INSTANCE error (exit 7) or a
 * value that was checked — never a crash, a hang, or an unchecked address,
 * id or region handed on to the planner.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Imds, MAX_ANSWER_BYTES } from '../../src/aws/imds.js';
import { classifyAddress } from '../../src/core/addresses.js';
import { SgsyncError } from '../../src/core/errors.js';
import type { Member } from '../../src/core/model.js';
import { startHostileServer, trickle, type Handler, type HostileServer } from './hostile-server.js';

const IDENTITY = { accountId: '123456789012', instanceId: 'i-0123456789abcdef0', region: 'eu-west-1', privateIp: '10.0.0.5', instanceType: 't3.micro', pendingTime: '2026-01-02T03:04:05Z' };
const GOOD: Record<string, string> = {
  'latest/dynamic/instance-identity/document': JSON.stringify(IDENTITY),
  'latest/meta-data/public-ipv4': '54.1.2.3',
  'latest/meta-data/local-ipv4': '10.0.0.5',
  'latest/meta-data/ipv6': '2600:1f18::5',
  'latest/meta-data/mac': '0e:49:61:0f:c3:11',
  'latest/meta-data/network/interfaces/macs/': '0e:49:61:0f:c3:11/',
  'latest/meta-data/network/interfaces/macs/0e:49:61:0f:c3:11/ipv6s': '2600:1f18::5\n2600:1f18::4',
  'latest/meta-data/tags/instance': 'role\nName',
  'latest/meta-data/tags/instance/role': 'api',
  'latest/meta-data/tags/instance/Name': '<script>alert(1)</script>',
};

/** An IMDSv2 that hands out tokens and serves `paths`, with `override` deciding a path's answer first. */
function imdsv2(paths: Record<string, string>, override?: (path: string, res: Parameters<Handler>[1]) => boolean): Handler {
  return (req, res) => {
    const path = (req.url ?? '').replace(/^\//, '');
    if (override?.(path, res)) return;
    if (req.method === 'PUT' && path === 'latest/api/token') return void res.end('token-0123456789');
    if (req.headers['x-aws-ec2-metadata-token'] !== 'token-0123456789') return void res.writeHead(401).end();
    const body = paths[path];
    if (body === undefined) return void res.writeHead(404).end();
    res.end(body);
  };
}

let server: HostileServer;
beforeAll(async () => {
  server = await startHostileServer(imdsv2(GOOD));
});
afterAll(() => server.close());

/** Reads the instance through a fresh client. The deadline is generous: only the trickling answer should meet it. */
async function readSelf(handler: Handler, timeoutMs = 3000): Promise<Member | SgsyncError> {
  server.answer(handler);
  const imds = new Imds({ endpoint: server.url, timeoutMs, attempts: 2 });
  try {
    return await imds.self();
  } catch (e) {
    return e as SgsyncError;
  } finally {
    imds.close();
  }
}

function expectRefusal(out: Member | SgsyncError, mention?: string): void {
  expect(out, JSON.stringify(out)).toBeInstanceOf(SgsyncError);
  const e = out as SgsyncError;
  expect(e.code).toBe('NOT_ON_INSTANCE');
  expect(e.message).not.toMatch(/TypeError|SyntaxError|\n\s+at /);
  if (mention) expect(e.message).toContain(mention);
}

/** Whatever came back is either a refusal or a member made only of checked values. */
function expectCheckedOrRefused(out: Member | SgsyncError): void {
  if (out instanceof SgsyncError) return expectRefusal(out);
  expect(out.instanceId).toMatch(/^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/);
  expect(out.region).toMatch(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/);
  if (out.publicIpv4 !== undefined) expect(classifyAddress(out.publicIpv4)?.canonical).toBe(out.publicIpv4);
  if (out.privateIpv4 !== undefined) expect(classifyAddress(out.privateIpv4)?.family).toBe('ipv4');
  for (const a of out.ipv6) expect(classifyAddress(a)?.canonical).toBe(a);
}

const withPath = (path: string, body: string) => imdsv2({ ...GOOD, [path]: body });

describe('an IMDS that answers well', () => {
  it('gives the member as the instance describes itself', async () => {
    const out = await readSelf(imdsv2(GOOD));
    expect(out).toMatchObject({ instanceId: IDENTITY.instanceId, region: 'eu-west-1', accountId: '123456789012', publicIpv4: '54.1.2.3', privateIpv4: '10.0.0.5', ipv6: ['2600:1f18::4', '2600:1f18::5'], tags: { role: 'api', Name: '<script>alert(1)</script>' } });
  });
});

describe('an IMDS that answers with garbage', () => {
  const doc = 'latest/dynamic/instance-identity/document';
  it.each<[string, string, string, string?]>([
    ['an identity document that is not JSON', doc, '<html><body>Welcome to nginx</body></html>', 'identity document'],
    ['an identity document that is null', doc, 'null', 'identity document'],
    ['an identity document that is a list', doc, '[1,2,3]', 'identity document'],
    ['an identity document without an instance id', doc, JSON.stringify({ ...IDENTITY, instanceId: undefined }), 'instanceId'],
    ['an instance id with a path in it', doc, JSON.stringify({ ...IDENTITY, instanceId: 'i-0123456789abcdef0/../../x' }), 'instanceId'],
    ['an instance id in markup', doc, JSON.stringify({ ...IDENTITY, instanceId: '<script>alert(1)</script>' }), 'instanceId'],
    ['an instance id that is a number', doc, JSON.stringify({ ...IDENTITY, instanceId: 42 }), 'instanceId'],
    ['a region with a newline', doc, JSON.stringify({ ...IDENTITY, region: 'eu-west-1\nus-east-1' }), 'region'],
    ['an account id of letters', doc, JSON.stringify({ ...IDENTITY, accountId: 'abcdefghijkl' }), 'accountId'],
    ['a prototype-polluting identity document', doc, '{"__proto__": {"instanceId": "i-0123456789abcdef0"}, "region": "eu-west-1"}', 'instanceId'],
    ['a public-ipv4 that is a web page', 'latest/meta-data/public-ipv4', '<html>Moved</html>', 'IPv4'],
    ['a public-ipv4 that is a network', 'latest/meta-data/public-ipv4', '0.0.0.0/0', 'IPv4'],
    ['a public-ipv4 that is two addresses', 'latest/meta-data/public-ipv4', '54.1.2.3\n54.1.2.4', 'IPv4'],
    ['a public-ipv4 that is IPv6', 'latest/meta-data/public-ipv4', '2600:1f18::5', 'IPv4'],
    ['a public-ipv4 with leading zeros', 'latest/meta-data/public-ipv4', '054.001.002.003', 'IPv4'],
    ['a local-ipv4 that is a hostname', 'latest/meta-data/local-ipv4', 'ip-10-0-0-5.ec2.internal', 'IPv4'],
    ['an ipv6 that is a network', 'latest/meta-data/ipv6', '::/0', 'IPv6'],
    ['an ipv6 with a zone', 'latest/meta-data/ipv6', 'fe80::1%eth0', 'IPv6'],
    ['an interface listing that is no MAC addresses', 'latest/meta-data/network/interfaces/macs/', '../../dynamic/instance-identity/', 'MAC address'],
    ['a thousand interfaces', 'latest/meta-data/network/interfaces/macs/', Array.from({ length: 1000 }, (_, i) => `0e:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}/`).join('\n'), 'network interfaces'],
    ['an interface address that is a network', 'latest/meta-data/network/interfaces/macs/0e:49:61:0f:c3:11/ipv6s', '2600:1f18::5\n::/0', 'IPv6'],
    ['a tag key with a slash', 'latest/meta-data/tags/instance', 'role\n../../dynamic/instance-identity/document', 'tag key'],
    ['a thousand tag keys', 'latest/meta-data/tags/instance', Array.from({ length: 1000 }, (_, i) => `k${i}`).join('\n'), '50'],
  ])('refuses %s', async (_what, path, body, mention) => {
    expectRefusal(await readSelf(withPath(path, body)), mention);
  });

  it('refuses an answer larger than any IMDS answer', async () => {
    expectRefusal(await readSelf(withPath('latest/meta-data/public-ipv4', '5'.repeat(MAX_ANSWER_BYTES + 1))), `${MAX_ANSWER_BYTES} bytes`);
  });

  it('gives up on an answer that trickles in a byte at a time', async () => {
    expectRefusal(await readSelf(imdsv2(GOOD, (path, res) => path === 'latest/meta-data/public-ipv4' && (trickle(res, '54.1.2.3'), true)), 300), 'no complete answer');
  });

  it('gives up on an answer cut short', async () => {
    const cut = imdsv2(GOOD, (path, res) => {
      if (path !== 'latest/meta-data/public-ipv4') return false;
      res.writeHead(200, { 'content-length': '100' });
      res.write('54.1.');
      setTimeout(() => res.destroy(), 10);
      return true;
    });
    expectRefusal(await readSelf(cut));
  });

  it.each([
    ['a redirect elsewhere', 301],
    ['a server error every time', 500],
    ['a refusal of every token', 403],
  ])('says it is not on an instance after %s', async (_what, status) => {
    expectRefusal(await readSelf((_req, res) => void res.writeHead(status, { location: 'http://169.254.169.254.evil.example/' }).end('<html>no</html>')));
  });

  it('refuses or checks every value, whatever each path answers', async () => {
    const answers = fc.record(
      Object.fromEntries(
        Object.keys(GOOD).map((p) => [p, fc.oneof(fc.constant(GOOD[p] as string), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom('', ' ', '\n', 'null', '{}', '0.0.0.0', '::', '1.2.3.4/32', '<b>x</b>', JSON.stringify({ ...IDENTITY, region: 'mars-1' })))]),
      ),
    );
    await fc.assert(
      fc.asyncProperty(answers, async (paths) => expectCheckedOrRefused(await readSelf(imdsv2(paths)))),
      { numRuns: 60 },
    );
  });
});

describe('the spot notice and lifecycle state from a hostile IMDS', () => {
  async function notice(body: string) {
    server.answer(withPath('latest/meta-data/spot/instance-action', body));
    const imds = new Imds({ endpoint: server.url, timeoutMs: 3000, attempts: 1 });
    try {
      return await imds.spotNotice();
    } finally {
      imds.close();
    }
  }

  it.each(['null', '[]', '"terminate"', '{', '{"action": {"$gt": 1}, "time": 5}', '<html>', 'x'.repeat(1000)])('reads any answer %j as a notice to leave, with plain text fields', async (body) => {
    expect(await notice(body)).toEqual({ action: 'terminate', time: '' });
  });

  it('passes a real notice on as it is', async () => {
    expect(await notice('{"action": "stop", "time": "2026-01-02T03:04:05Z"}')).toEqual({ action: 'stop', time: '2026-01-02T03:04:05Z' });
  });

  it('does not pass on a lifecycle state that is not a state', async () => {
    server.answer(withPath('latest/meta-data/autoscaling/target-lifecycle-state', 'Terminated\n<script>'));
    const imds = new Imds({ endpoint: server.url, timeoutMs: 3000, attempts: 1 });
    try {
      expect(await imds.lifecycleState()).toBeUndefined();
    } finally {
      imds.close();
    }
  });
});
