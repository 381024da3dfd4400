import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerControlError, handleControl } from './control.js';
import { controlRefusal, isLoopbackHost } from './cross-site.js';
import { handleEc2 } from './ec2-endpoint.js';
import { errorXml } from './xml.js';
import { handleImds } from './imds.js';
import { Sandbox, type SandboxOptions } from './sandbox.js';

/** Bodies larger than this are refused before they are read in full. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface StartSandboxOptions extends SandboxOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
}

export interface RunningSandbox {
  /** `http://HOST:PORT`, the EC2 endpoint for every region. */
  url: string;
  port: number;
  sandbox: Sandbox;
  /** The IMDS base URL of one instance, for `AWS_EC2_METADATA_SERVICE_ENDPOINT`. */
  imdsUrl(instanceId: string): string;
  close(): Promise<void>;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function route(sandbox: Sandbox, req: IncomingMessage, res: ServerResponse, loopback: boolean): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sandbox');
  const path = url.pathname;

  if (path.startsWith('/_sandbox/') || path === '/_sandbox') {
    // Before the body is read: a refused request changes nothing and costs nothing.
    const refusal = controlRefusal(req.headers, loopback);
    if (refusal !== undefined) {
      answerControlError(res, 403, 'Forbidden', refusal);
      return;
    }
    const body = req.method === 'GET' ? '' : await readBody(req);
    await handleControl(sandbox, req, res, path.slice('/_sandbox'.length) || '/', url.searchParams, body);
    return;
  }
  if (path.startsWith('/imds/') || path.startsWith('/latest/')) {
    await handleImds(sandbox, req, res, path);
    return;
  }
  if (req.method !== 'POST') {
    res.writeHead(405, { 'content-type': 'text/xml', allow: 'POST' });
    res.end(errorXml('InvalidHttpRequest', 'The EC2 Query API takes POST requests with a form-encoded body.', 'none'));
    return;
  }
  const body = await readBody(req);
  const answer = await handleEc2(sandbox, body, req.headers.authorization);
  if ('drop' in answer) {
    req.socket.destroy();
    return;
  }
  res.writeHead(answer.status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': 'sandbox' });
  res.end(answer.body);
}

/**
 * Starts a sandbox HTTP server. Resolves once it answers, with its URL and a
 * `close` that stops it and drops open connections.
 *
 * @example
 * const { url, close } = await startSandbox({ port: 0, seed: 7 });
 * const ec2 = new EC2Client({ region: 'us-east-1', endpoint: url });
 */
export async function startSandbox(options: StartSandboxOptions = {}, existing?: Sandbox): Promise<RunningSandbox> {
  const sandbox = existing ?? new Sandbox(options);
  const host = options.host ?? '127.0.0.1';
  const loopback = isLoopbackHost(host);
  const server = createServer((req, res) => {
    route(sandbox, req, res, loopback).catch((e: unknown) => {
      if (e instanceof BodyTooLarge) {
        if (!res.headersSent) {
          res.writeHead(413, { 'content-type': 'text/xml', connection: 'close' });
          res.end(errorXml('RequestEntityTooLarge', `The request body exceeds ${MAX_BODY_BYTES} bytes.`, 'none'));
        }
        return;
      }
      sandbox.log(`request failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/xml' });
        res.end(errorXml('InternalError', 'An internal error has occurred.', 'none'));
      } else {
        res.destroy();
      }
    });
  });
  // Idle keep-alive connections stay open for a minute. With Node's 5 s default
  // the server closed sockets that clients backing off from throttling still
  // held, and their next call failed with "socket hang up" — noise that is the
  // sandbox's, not the client's.
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 61_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown}:${port}`;
  return {
    url,
    port,
    sandbox,
    imdsUrl: (instanceId) => `${url}/imds/${instanceId}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
