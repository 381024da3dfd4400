import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

/** A server that is listening: where to reach it and how to stop it. */
export interface Listening {
  /** `http://host:port`, with IPv6 hosts in brackets. */
  url: string;
  port: number;
  /** Stops accepting, drops kept-alive connections, and resolves once closed. */
  close(): Promise<void>;
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
