/**
 * A tiny HTTP server on 127.0.0.1:0 that answers whatever a test tells it
 * to: the stand-in for a metadata service or an EC2 endpoint gone bad.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export interface HostileServer {
  url: string;
  /** Requests seen, as `METHOD path`. */
  requests: string[];
  /** Replaces the answering function. */
  answer(handler: Handler): void;
  close(): Promise<void>;
}

/** Starts a server answering with `handler` (until `answer` swaps it). */
export async function startHostileServer(handler: Handler): Promise<HostileServer> {
  let current = handler;
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      requests.push(`${req.method ?? ''} ${req.url ?? ''}`);
      current(req, res, body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer: (h) => void (current = h),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Sends `body` a few bytes at a time, forever slower than any deadline, until the client gives up. */
export function trickle(res: ServerResponse, body: string, everyMs = 50): void {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length * 1000) });
  let i = 0;
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    res.write(body[i++ % body.length] ?? ' ');
  }, everyMs);
  res.on('close', () => clearInterval(timer));
}
