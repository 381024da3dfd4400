import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { SgsyncError } from '../core/errors.js';

/** A server that is listening: where to reach it and how to stop it. */
export interface Listening {
  /** `http://host:port`, with IPv6 hosts in brackets. */
  url: string;
  port: number;
  /** Stops accepting, drops kept-alive connections, and resolves once closed. */
  close(): Promise<void>;
}

/**
 * What went wrong listening on host:port, said for the user who chose them
 * with `option` (`--port`, say): a `REFUSED` error.
 */
export function listenError(e: unknown, host: string, port: number, option: string): SgsyncError {
  const code = (e as NodeJS.ErrnoException).code;
  const where = `${host}:${port}`;
  const why =
    code === 'EADDRINUSE' ? `${where} is already in use; choose another ${option} (0 picks a free one)`
    : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' ? `cannot listen on ${where}: no such local address`
    : code === 'EACCES' ? `not allowed to listen on ${where}; ports below 1024 need privileges`
    : `cannot listen on ${where}: ${code ?? String(e)}`;
  return new SgsyncError('REFUSED', why, { cause: e });
}

/**
 * Starts `server` on host:port (port 0 picks a free one) and resolves once it
 * listens, or rejects with the listen error (EADDRINUSE, EACCES, …), so the
 * caller can say which port was the problem.
 *
 * @example const { url, close } = await listen(createServer(handler), '127.0.0.1', 0);
 */
export async function listen(server: Server, host: string, port: number): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
