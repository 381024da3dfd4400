import type { IncomingMessage, ServerResponse } from 'node:http';
import { isVisible } from './actions/instances.js';
import { sandboxIdentity } from './identity.js';
import { imdsTree, readNode } from './imds-tree.js';
import { ANY_INSTANCE } from './imds-tokens.js';
import type { Sandbox } from './sandbox.js';
import type { Instance, Region } from './world.js';


/** AWS's bounds for `X-aws-ec2-metadata-token-ttl-seconds`. */
export const MAX_TOKEN_TTL_SECONDS = 21_600;

function reply(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain', ...headers });
  res.end(body);
}

function findInstance(sandbox: Sandbox, id: string): { instance: Instance; region: Region } | undefined {
  const now = sandbox.world.clock.now();
  for (const region of sandbox.world.regions.values()) {
    const instance = region.instances.get(id);
    if (instance) return isVisible(instance, now) ? { instance, region } : undefined;
  }
  return undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * IMDSv2 for every sandbox instance, under `/imds/<instance-id>/latest/…`,
 * plus `PUT /latest/api/token` at the root (where AWS's SDK clients send the
 * token request whatever the endpoint's path) with a token good for any
 * instance; a token from an instance's own path is good for that instance only.
 *
 * Tokens are required (IMDSv1 is off, as `HttpTokens=required`): a GET without
 * a valid, unexpired token is 401; a token PUT carrying `X-Forwarded-For` is
 * 403 and one with a TTL outside 1–21600 s is 400. Unknown and terminated
 * instances are 404 (nothing answers for them any more); a stopped instance
 * is 503, as a host that is switched off cannot answer, so a client's retry
 * logic is exercised rather than told the path does not exist. IMDS faults
 * (down, slow, stale tokens) and per-instance counters are applied here.
 */
export async function handleImds(sandbox: Sandbox, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  let instanceId: string | undefined;
  let rest = path;
  if (path.startsWith('/imds/')) {
    const after = path.slice('/imds/'.length);
    const slash = after.indexOf('/');
    instanceId = slash < 0 ? after : after.slice(0, slash);
    rest = slash < 0 ? '' : after.slice(slash);
  }
  const segments = rest.split('/').filter((s) => s !== '');
  const kind = segments.join('/') === 'latest/api/token' ? 'token' : 'read';
  // Counted per instance that exists, so made-up paths cannot grow the counters without bound.
  const counted = instanceId !== undefined && [...sandbox.world.regions.values()].some((r) => r.instances.has(instanceId)) ? instanceId : ANY_INSTANCE;

  // IMDS faults (docs/sandbox.md): a service that is down closes the connection, a slow one answers late.
  const fault = sandbox.faults.decideImds();
  if (fault.latencyMs > 0) await new Promise((r) => setTimeout(r, fault.latencyMs));
  if (fault.drop) {
    sandbox.imdsCounters.record(counted, kind, 'faulted');
    req.socket.destroy();
    return;
  }
  const answer = (status: number, body: string, headers: Record<string, string> = {}) => {
    sandbox.imdsCounters.record(counted, kind, status === 200 ? 'ok' : 'failed');
    reply(res, status, body, headers);
  };
  imdsAnswer(sandbox, req, instanceId, segments, answer);
}

type Answer = (status: number, body: string, headers?: Record<string, string>) => void;

/** The answer of a metadata service that is up: tokens, then the instance's tree. */
function imdsAnswer(sandbox: Sandbox, req: IncomingMessage, instanceId: string | undefined, segments: string[], reply: Answer): void {
  let found: { instance: Instance; region: Region } | undefined;
  if (instanceId !== undefined) {
    found = findInstance(sandbox, instanceId);
    if (!found || found.instance.state === 'terminated') return reply(404, `No instance ${instanceId} answers here.`);
    if (found.instance.state === 'stopped') return reply(503, `Instance ${instanceId} is stopped.`);
  }

  if (segments.join('/') === 'latest/api/token') {
    if (req.method !== 'PUT') return reply(405, 'The token is requested with PUT.', { allow: 'PUT' });
    if (header(req, 'x-forwarded-for') !== undefined) return reply(403, 'Forbidden: token requests must not pass through a proxy.');
    const raw = header(req, 'x-aws-ec2-metadata-token-ttl-seconds') ?? '';
    const ttl = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
    if (!(ttl >= 1 && ttl <= MAX_TOKEN_TTL_SECONDS)) {
      return reply(400, `X-aws-ec2-metadata-token-ttl-seconds must be an integer from 1 to ${MAX_TOKEN_TTL_SECONDS}.`);
    }
    const token = sandbox.imdsTokens.issue(found?.instance.id ?? ANY_INSTANCE, ttl);
    return reply(200, token, { 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl) });
  }
  if (!found) return reply(404, 'Metadata is served per instance, under /imds/<instance-id>/latest/.');
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'Metadata is read with GET.', { allow: 'GET, HEAD' });
  if (!sandbox.imdsTokens.accepts(header(req, 'x-aws-ec2-metadata-token'), found.instance.id)) {
    return reply(401, 'Unauthorized: a valid X-aws-ec2-metadata-token is required.');
  }
  if (segments.length === 0) return reply(200, 'latest');
  if (segments[0] !== 'latest') return reply(404, 'Not Found');
  const tree = imdsTree(found.instance, found.region, sandbox.world.accountId, () => sandboxIdentity(sandbox));
  const body = readNode(tree, segments.slice(1));
  if (body === undefined) return reply(404, 'Not Found');
  return reply(200, body);
}
