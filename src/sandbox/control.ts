import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import { buildDemoFleet } from './demo-fleet.js';
import { faultsConfigSchema, imdsFaultsSchema } from './faults.js';
import { sandboxCertificatePem } from './identity.js';
import { JsonInputError, parseJsonInput } from './json-input.js';
import type { Sandbox } from './sandbox.js';
import { serializeWorld } from './state-file.js';
import { formatThrottleMode } from './throttle.js';
import type { Instance } from './world.js';

/**
 * The control API under `/_sandbox/`: JSON in, JSON out, for tests, demos and
 * operators to steer the sandbox (reset it, move its clock, inject faults,
 * post spot notices) and to read what happened (snapshot, counters, events).
 * Documented with examples in docs/sandbox.md.
 */

/** A refusal: HTTP status, a short error name and a message for people. */
class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

interface Request {
  sandbox: Sandbox;
  req: IncomingMessage;
  params: string[];
  query: URLSearchParams;
  body: string;
}
/** A JSON answer, or (for the certificate) text. */
type Reply = { status?: number; json: unknown } | { text: string; contentType: string };
type Route = { method: string; path: RegExp; run: (r: Request) => Reply | Promise<Reply> };

/** Reads the body as JSON and validates it; an empty body counts as `{}`. */
function bodyOf<S extends z.ZodType>(r: Request, schema: S): z.infer<S> {
  return parseJsonInput(r.body.trim() === '' ? '{}' : r.body, schema, 'the request body');
}

function findInstance(sandbox: Sandbox, id: string): Instance {
  for (const region of sandbox.world.regions.values()) {
    const instance = region.instances.get(id);
    if (instance) return instance;
  }
  throw new ControlError(404, 'InstanceNotFound', `No instance ${id} in any region.`);
}

function clockJson(sandbox: Sandbox): unknown {
  const now = sandbox.world.clock.now();
  const real = (sandbox.options.now ?? Date.now)();
  return { now: new Date(now).toISOString(), epochMs: now, offsetSeconds: Math.max(0, now - real) / 1000 };
}

function throttleJson(sandbox: Sandbox): unknown {
  const mode = sandbox.throttle.mode;
  return {
    mode: mode.kind,
    scale: mode.kind === 'aws' ? mode.scale : undefined,
    text: formatThrottleMode(mode),
    buckets: sandbox.throttle.levels(),
  };
}

/** AWS gives two minutes' warning; the notice's time is when the action happens. */
const SPOT_WARNING_MS = 120_000;
const isoSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** The values IMDS's `autoscaling/target-lifecycle-state` takes in AWS. */
const LIFECYCLE_STATES = ['InService', 'Terminated', 'Warmed:Running', 'Warmed:Stopped', 'Warmed:Hibernated', 'Warmed:Terminated'] as const;

const schemas = {
  reset: z.object({ demo: z.boolean().default(false) }).strict(),
  spot: z.object({ action: z.enum(['terminate', 'stop', 'hibernate']), time: z.iso.datetime().optional() }).strict(),
  lifecycle: z.object({ state: z.enum(LIFECYCLE_STATES) }).strict(),
  quota: z.object({ region: z.string().min(1), groupId: z.string().min(1).optional(), quota: z.number().int().min(1).max(1000) }).strict(),
  throttle: z
    .object({ mode: z.enum(['off', 'aws']), scale: z.number().positive().max(1_000_000).default(1) })
    .strict(),
  advance: z.object({ seconds: z.number().positive().max(10 * 365 * 86_400) }).strict(),
};

const routes: Route[] = [
  {
    method: 'GET',
    path: /^\/health$/,
    run: ({ sandbox }) => ({
      json: { status: 'ok', accountId: sandbox.world.accountId, regions: [...sandbox.world.regions.values()].filter((r) => r.optInStatus !== 'not-opted-in').map((r) => r.name) },
    }),
  },
  {
    method: 'POST',
    path: /^\/reset$/,
    run: async (r) => {
      const { demo } = bodyOf(r, schemas.reset);
      r.sandbox.reset();
      r.sandbox.throttle.reset();
      r.sandbox.faults.set(r.sandbox.faults.current);
      const fleet = demo ? await buildDemoFleet(r.sandbox) : undefined;
      return { json: { reset: true, demo, groups: fleet?.groups.length ?? 0, instances: fleet?.instances.length ?? 0 } };
    },
  },
  { method: 'GET', path: /^\/snapshot$/, run: ({ sandbox }) => ({ json: serializeWorld(sandbox.world, sandbox.options.now) }) },
  {
    method: 'POST',
    path: /^\/instances\/([^/]+)\/spot-notice$/,
    run: (r) => {
      const instance = findInstance(r.sandbox, r.params[0]!);
      const body = bodyOf(r, schemas.spot);
      const time = body.time ?? isoSeconds(r.sandbox.world.clock.now() + SPOT_WARNING_MS);
      instance.spotAction = { action: body.action, time };
      r.sandbox.changed();
      return { json: { instanceId: instance.id, spotAction: instance.spotAction } };
    },
  },
  {
    method: 'DELETE',
    path: /^\/instances\/([^/]+)\/spot-notice$/,
    run: (r) => {
      const instance = findInstance(r.sandbox, r.params[0]!);
      delete instance.spotAction;
      r.sandbox.changed();
      return { json: { instanceId: instance.id, spotAction: null } };
    },
  },
  {
    method: 'POST',
    path: /^\/instances\/([^/]+)\/lifecycle-state$/,
    run: (r) => {
      const instance = findInstance(r.sandbox, r.params[0]!);
      instance.lifecycleState = bodyOf(r, schemas.lifecycle).state;
      r.sandbox.changed();
      return { json: { instanceId: instance.id, lifecycleState: instance.lifecycleState } };
    },
  },
  {
    method: 'DELETE',
    path: /^\/instances\/([^/]+)\/lifecycle-state$/,
    run: (r) => {
      const instance = findInstance(r.sandbox, r.params[0]!);
      delete instance.lifecycleState;
      r.sandbox.changed();
      return { json: { instanceId: instance.id, lifecycleState: null } };
    },
  },
  {
    method: 'POST',
    path: /^\/quotas$/,
    run: (r) => {
      const body = bodyOf(r, schemas.quota);
      const region = r.sandbox.world.region(body.region);
      if (!region) throw new ControlError(404, 'RegionNotFound', `The region ${body.region} is not enabled in this sandbox.`);
      if (body.groupId) {
        const group = region.groups.get(body.groupId);
        if (!group) throw new ControlError(404, 'GroupNotFound', `No security group ${body.groupId} in ${body.region}.`);
        group.quota = body.quota;
      } else {
        region.quota = body.quota;
      }
      r.sandbox.changed();
      return { json: body };
    },
  },
  { method: 'GET', path: /^\/faults$/, run: ({ sandbox }) => ({ json: sandbox.faults.current }) },
  {
    method: 'PUT',
    path: /^\/faults$/,
    run: (r) => {
      r.sandbox.faults.set(bodyOf(r, faultsConfigSchema));
      return { json: r.sandbox.faults.current };
    },
  },
  { method: 'GET', path: /^\/imds-faults$/, run: ({ sandbox }) => ({ json: sandbox.faults.current.imds ?? imdsFaultsSchema.parse({}) }) },
  {
    method: 'PUT',
    path: /^\/imds-faults$/,
    run: (r) => {
      // Only the IMDS section changes; the EC2 rules and their streams stay as they are.
      const imds = bodyOf(r, imdsFaultsSchema);
      r.sandbox.faults.setImds(imds);
      return { json: r.sandbox.faults.current.imds };
    },
  },
  { method: 'GET', path: /^\/imds-counters$/, run: ({ sandbox }) => ({ json: sandbox.imdsCounters.snapshot() }) },
  { method: 'GET', path: /^\/throttle$/, run: ({ sandbox }) => ({ json: throttleJson(sandbox) }) },
  {
    method: 'PUT',
    path: /^\/throttle$/,
    run: (r) => {
      const body = bodyOf(r, schemas.throttle);
      r.sandbox.throttle.mode = body.mode === 'off' ? { kind: 'off' } : { kind: 'aws', scale: body.scale };
      return { json: throttleJson(r.sandbox) };
    },
  },
  { method: 'GET', path: /^\/clock$/, run: ({ sandbox }) => ({ json: clockJson(sandbox) }) },
  {
    method: 'POST',
    path: /^\/clock\/advance$/,
    run: (r) => {
      const ms = bodyOf(r, schemas.advance).seconds * 1000;
      r.sandbox.world.clock.advance(ms);
      // Time passes for the throttle's buckets too, so tests can wait for a refill without sleeping.
      r.sandbox.throttle.advance(ms);
      r.sandbox.changed();
      return { json: clockJson(r.sandbox) };
    },
  },
  { method: 'GET', path: /^\/counters$/, run: ({ sandbox }) => ({ json: sandbox.counters.snapshot() }) },
  {
    method: 'POST',
    path: /^\/counters\/reset$/,
    run: ({ sandbox }) => {
      sandbox.counters.reset();
      sandbox.imdsCounters.reset();
      return { json: sandbox.counters.snapshot() };
    },
  },
  { method: 'GET', path: /^\/events$/, run: (r) => readEvents(r) },
  {
    method: 'GET',
    path: /^\/certificate$/,
    run: ({ sandbox }) => ({ text: sandboxCertificatePem(sandbox), contentType: 'application/x-pem-file' }),
  },
];

/** Up to this long a reader may wait for events in one request. */
const MAX_WAIT_SECONDS = 60;

function numberParam(query: URLSearchParams, name: string, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return 0;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > max) throw new ControlError(400, 'InvalidRequest', `The query parameter ${name} must be a number from 0 to ${max}.`);
  return n;
}

/** Events after `after`; with `wait`, holds the request until one arrives or the time is up. */
async function readEvents({ sandbox, req, query }: Request): Promise<Reply> {
  const after = Math.floor(numberParam(query, 'after', Number.MAX_SAFE_INTEGER));
  const wait = numberParam(query, 'wait', MAX_WAIT_SECONDS);
  if (wait > 0 && sandbox.events.since(after).length === 0) {
    let onClose = () => {};
    const closed = new Promise<void>((resolve) => (onClose = resolve));
    req.socket.once('close', onClose);
    await Promise.race([sandbox.events.wait(wait * 1000), closed]);
    req.socket.off('close', onClose);
  }
  const events = sandbox.events.since(after);
  return { json: { last: events.at(-1)?.seq ?? Math.max(after, sandbox.events.last), events: events.map((e) => e.event) } };
}

function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ControlError(400, 'InvalidRequest', `The path segment '${part.slice(0, 64)}' is not valid percent-encoding.`);
  }
}

function send(res: ServerResponse, status: number, json: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = `${JSON.stringify(json, null, 2)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/** Answers with the control API's error shape, `{ error, message }`. */
export function answerControlError(res: ServerResponse, status: number, error: string, message: string): void {
  send(res, status, { error, message });
}

/**
 * Answers one control-API request. Never throws: bad input is a 400, unknown
 * paths and ids a 404, and anything unexpected a 500 with the problem logged.
 */
export async function handleControl(
  sandbox: Sandbox,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams,
  body: string,
): Promise<void> {
  const method = req.method ?? 'GET';
  try {
    const matching = routes.filter((route) => route.path.test(path));
    const route = matching.find((x) => x.method === method);
    if (!route) {
      if (matching.length > 0) {
        const allow = matching.map((x) => x.method).join(', ');
        throw new ControlError(405, 'MethodNotAllowed', `${path} accepts ${allow}, not ${method}.`);
      }
      throw new ControlError(404, 'NotFound', `There is no control endpoint ${method} /_sandbox${path}; see docs/sandbox.md.`);
    }
    const params = route.path.exec(path)!.slice(1).map(decodePart);
    const reply = await route.run({ sandbox, req, params, query, body });
    if ('text' in reply) {
      res.writeHead(200, { 'content-type': reply.contentType });
      res.end(reply.text);
      return;
    }
    send(res, reply.status ?? 200, reply.json);
  } catch (e) {
    if (e instanceof ControlError) return send(res, e.status, { error: e.error, message: e.message });
    if (e instanceof JsonInputError) return send(res, 400, { error: 'InvalidRequest', message: e.message });
    sandbox.log(`control API ${method} ${path} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    send(res, 500, { error: 'InternalError', message: e instanceof Error ? e.message : String(e) });
  }
}
