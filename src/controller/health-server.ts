import { createServer, type Server } from 'node:http';
import { messageOf } from '../core/errors.js';
import { allowedHostsFor, hostAllowed, isLoopbackHost, quotedHost } from '../http/allowed-hosts.js';
import { listen, type Listening } from '../http/listen.js';
import { EXPOSITION_CONTENT_TYPE } from './prometheus.js';

export interface Health {
  healthy: boolean;
  /** One sentence: why the controller is (not) healthy. */
  reason: string;
  lastSuccessAt?: string;
  lastPass?: { finishedAt: string; ok: boolean; durationSeconds: number };
}

/** What the verdict reads; `ControllerMetrics` provides it. */
export interface HealthInput {
  readonly lastSuccessAt?: number;
  readonly lastPass?: { finishedAtMs: number; durationMs: number; ok: boolean };
}

/**
 * Healthy means a pass succeeded within the last two intervals, each with
 * its jitter (`jitterMs`, the most the schedule adds to an interval): one
 * failed or late pass is tolerated (a throttled burst), two in a row are
 * not. Before the first successful pass the controller is not yet healthy,
 * because it has not yet shown that it can reach AWS and do its job.
 */
export function healthOf(metrics: HealthInput, nowMs: number, intervalMs: number, jitterMs = 0): Health {
  const last = metrics.lastPass;
  const lastPass = last ? { finishedAt: new Date(last.finishedAtMs).toISOString(), ok: last.ok, durationSeconds: last.durationMs / 1000 } : undefined;
  const success = metrics.lastSuccessAt;
  if (success === undefined) {
    return { healthy: false, reason: last ? 'no pass has succeeded yet; the last one failed' : 'no pass has finished yet', ...(lastPass ? { lastPass } : {}) };
  }
  const ago = Math.max(0, nowMs - success);
  const seconds = Math.round(ago / 1000);
  const allowedMs = 2 * (intervalMs + jitterMs);
  const healthy = ago <= allowedMs;
  const reason = healthy
    ? `the last successful pass finished ${seconds}s ago`
    : `the last successful pass finished ${seconds}s ago, more than two intervals${jitterMs > 0 ? ' with their jitter' : ''} (${allowedMs / 1000}s)`;
  return { healthy, reason, lastSuccessAt: new Date(success).toISOString(), ...(lastPass ? { lastPass } : {}) };
}

export interface HealthServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The /healthz verdict, now. */
  health: () => Health;
  /** The /metrics text, now. */
  metrics: () => string;
}

export type RunningHealthServer = Listening;

/**
 * The path of a request target, or undefined when it is not one a URL can be
 * made of (`http://[`): a throw here, outside any handler's catch, would end
 * the daemon, and with it the pass in progress.
 */
function pathOf(target: string | undefined): string | undefined {
  try {
    return new URL(target ?? '/', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
}

/**
 * Why a request's Host header is refused by a server listening on `host`,
 * or undefined when it is answered. On loopback, only the names loopback is
 * reached by are (DNS rebinding); elsewhere any is: scrapers reach it by the
 * pod's or host's address or a name of their own, and whoever can reach it
 * there can read it anyway.
 */
export function hostCheck(host: string): (header: string | undefined) => string | undefined {
  if (!isLoopbackHost(host)) return () => undefined;
  const allowed = allowedHostsFor(host);
  return (header) =>
    hostAllowed(header, allowed)
      ? undefined
      : `This server listens on ${host} and answers only to ${allowed.names.join(', ')}, not to ${quotedHost(header)}, so that a web page cannot read it through DNS rebinding. Scrape it at one of those names, or listen on another address with --metrics-host.\n`;
}

/**
 * Serves `/healthz` (200 or 503 with a JSON reason) and `/metrics`
 * (Prometheus text) over plain HTTP. It only reads state the loop keeps, so
 * a slow scrape never delays a pass.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<RunningHealthServer> {
  const refusedHost = hostCheck(options.host);
  const server: Server = createServer((req, res) => {
    const path = pathOf(req.url);
    if (path === undefined) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request target: try /healthz or /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('GET only\n');
      return;
    }
    const refusal = refusedHost(req.headers.host);
    if (refusal !== undefined) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end(refusal);
      return;
    }
    try {
      if (path === '/healthz') {
        const h = options.health();
        res.writeHead(h.healthy ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(`${JSON.stringify({ status: h.healthy ? 'ok' : 'unhealthy', ...h })}\n`);
      } else if (path === '/metrics') {
        res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE, 'cache-control': 'no-store' }).end(options.metrics());
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz or /metrics\n');
      }
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`${messageOf(e)}\n`);
    }
  });
  return listen(server, options.host, options.port);
}
