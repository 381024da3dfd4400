/**
 * Serves a Hono app over Node's http module: requests become Fetch API
 * Requests and responses are streamed back. Small enough to own, so the
 * dashboard needs no server package.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Hono } from 'hono';
import { listen, type Listening } from '../http/listen.js';

/** Form posts are tiny; anything bigger is not a dashboard request. */
const MAX_BODY_BYTES = 64 * 1024;

export type ServedDashboard = Listening;

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function handle(app: Hono, origin: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) v.forEach((x) => headers.append(k, x));
    else if (v !== undefined) headers.set(k, v);
  }
  const method = req.method ?? 'GET';
  let body: Buffer | undefined;
  if (method !== 'GET' && method !== 'HEAD') {
    body = await readBody(req);
    if (body === undefined) {
      res.writeHead(413, { 'content-type': 'text/plain' }).end('Request body too large.');
      return;
    }
  }
  const request = new Request(new URL(req.url ?? '/', origin), { method, headers, body });
  const response = await app.fetch(request);
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (!response.body || method === 'HEAD') {
    res.end();
    return;
  }
  Readable.fromWeb(response.body).pipe(res);
}

/**
 * Listens on host:port (port 0 picks a free one) and resolves once
 * listening, with the URL to open.
 */
export async function serveDashboard(app: Hono, options: { host: string; port: number }): Promise<ServedDashboard> {
  let origin = 'http://localhost';
  const server = createServer((req, res) => {
    handle(app, origin, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal error.');
      else res.destroy();
    });
  });
  const listening = await listen(server, options.host, options.port);
  origin = listening.url;
  return listening;
}
