import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getWithHost } from '../../test/support/http-host.js';
import { healthOf, hostCheck, startHealthServer, type RunningHealthServer } from './health-server.js';
import { ControllerMetrics } from './metrics.js';

const MINUTE = 60_000;
const t0 = Date.parse('2026-03-01T12:00:00Z');

describe('the health verdict', () => {
  const pass = (finishedAtMs: number, ok: boolean) => ({ finishedAtMs, durationMs: 1_000, ok });
  it.each<[string, { lastSuccessAt?: number; lastPass?: ReturnType<typeof pass> }, number, boolean, RegExp]>([
    ['before any pass', {}, t0, false, /no pass has finished yet/],
    ['when only failed passes have run', { lastPass: pass(t0, false) }, t0 + 1_000, false, /no pass has succeeded yet/],
    ['a minute after a success', { lastSuccessAt: t0, lastPass: pass(t0, true) }, t0 + MINUTE, true, /finished 60s ago/],
    ['after one failure that follows a recent success', { lastSuccessAt: t0, lastPass: pass(t0 + 5 * MINUTE, false) }, t0 + 6 * MINUTE, true, /finished 360s ago/],
    ['exactly two intervals after a success', { lastSuccessAt: t0, lastPass: pass(t0, true) }, t0 + 10 * MINUTE, true, /600s ago/],
    ['more than two intervals after a success', { lastSuccessAt: t0, lastPass: pass(t0 + 5 * MINUTE, false) }, t0 + 10 * MINUTE + 1_000, false, /more than two intervals \(600s\)/],
  ])('%s: healthy is %s', (_when, state, now, healthy, reason) => {
    const h = healthOf(state, now, 5 * MINUTE);
    expect(h.healthy).toBe(healthy);
    expect(h.reason).toMatch(reason);
  });

  it('allows each of the two intervals its jitter: a short interval with the most jitter is no alarm', () => {
    // 10 s interval, 10 s jitter, a pass of 1 s: the next success can come 21 s after the last.
    const state = { lastSuccessAt: t0, lastPass: pass(t0, true) };
    expect(healthOf(state, t0 + 21_000, 10_000, 10_000).healthy).toBe(true);
    expect(healthOf(state, t0 + 40_000, 10_000, 10_000).healthy).toBe(true);
    expect(healthOf(state, t0 + 40_001, 10_000, 10_000)).toMatchObject({ healthy: false, reason: expect.stringMatching(/more than two intervals with their jitter \(40s\)/) as unknown });
  });

  it('follows what the metrics recorded', () => {
    const metrics = new ControllerMetrics();
    metrics.recordFailure({ startedAtMs: t0, finishedAtMs: t0 + 2_000 });
    expect(healthOf(metrics, t0 + 3_000, MINUTE)).toEqual({
      healthy: false,
      reason: 'no pass has succeeded yet; the last one failed',
      lastPass: { finishedAt: '2026-03-01T12:00:02.000Z', ok: false, durationSeconds: 2 },
    });
  });
});

describe('the health server', () => {
  let server: RunningHealthServer;
  let healthy = false;

  beforeAll(async () => {
    server = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      health: () => ({ healthy, reason: healthy ? 'the last successful pass finished 3s ago' : 'no pass has finished yet' }),
      metrics: () => '# HELP up 1\n# TYPE up gauge\nup 1\n',
    });
  });

  afterAll(async () => {
    await server.close();
  });

  it('answers /healthz with 503 and the reason until a pass succeeds, then 200', async () => {
    const before = await fetch(`${server.url}/healthz`);
    expect([before.status, await before.json()]).toEqual([503, { status: 'unhealthy', healthy: false, reason: 'no pass has finished yet' }]);
    healthy = true;
    const after = await fetch(`${server.url}/healthz`);
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ status: 'ok', reason: 'the last successful pass finished 3s ago' });
  });

  it('serves /metrics as Prometheus text', async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await res.text()).toContain('\nup 1\n');
  });

  /** The status line the server answers a raw request line with (fetch cannot send a target that is no URL). */
  const rawStatus = (requestLine: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1', () => socket.end(`${requestLine}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('end', () => resolve(text.split('\r\n')[0] ?? ''));
      socket.on('error', reject);
    });

  it.each(['GET http://[ HTTP/1.1', 'GET //[ HTTP/1.1'])('answers a request target that is no URL (%s) with 400 and keeps serving', async (line) => {
    expect(await rawStatus(line)).toBe('HTTP/1.1 400 Bad Request');
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
  });

  it.each([
    ['GET', '/', 404],
    ['POST', '/metrics', 405],
  ])('answers %s %s with %i', async (method, path, status) => {
    expect((await fetch(`${server.url}${path}`, { method })).status).toBe(status);
  });

  it.each(['localhost', '127.0.0.1', '[::1]'])('answers to %s, with any port, on loopback', async (name) => {
    expect((await getWithHost(`${server.url}/metrics`, `${name}:${server.port}`)).status).toBe(200);
  });

  it.each(['evil.example', '127.0.0.1.evil.example', '[::1]x'])('refuses %s on loopback with 403 and what to do, so a web page cannot read it through DNS rebinding', async (name) => {
    for (const path of ['/metrics', '/healthz']) {
      const res = await getWithHost(`${server.url}${path}`, `${name}:${server.port}`);
      expect(res.status).toBe(403);
      expect(res.body).toBe(
        `This server listens on 127.0.0.1 and answers only to 127.0.0.1, localhost, [::1], not to Host "${name}:${server.port}", so that a web page cannot read it through DNS rebinding. Scrape it at one of those names, or listen on another address with --metrics-host.\n`,
      );
      expect(res.body).not.toContain('up 1');
    }
  });
});

describe('the Host names the metrics server answers to', () => {
  it.each([['127.0.0.1'], ['::1'], ['localhost'], ['127.0.0.2']])('on %s are the loopback names, and its own address', (host) => {
    const check = hostCheck(host);
    expect(check('localhost:9464')).toBeUndefined();
    expect(check('evil.example:9464')).toContain('DNS rebinding');
  });

  it.each([['0.0.0.0'], ['::'], ['10.0.0.5']])('on %s are any, for scrapers that use the pod\'s address or a name of their own', (host) => {
    const check = hostCheck(host);
    for (const header of ['10.0.0.5:9464', 'sgsync.monitoring.svc:9464', 'localhost:9464', undefined]) expect(check(header)).toBeUndefined();
  });
});

