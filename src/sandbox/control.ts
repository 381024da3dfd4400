import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Sandbox } from './sandbox.js';

// OWNED BY: control-API helper. Interface fixed; implementation to be written.
export async function handleControl(
  _sandbox: Sandbox,
  _req: IncomingMessage,
  res: ServerResponse,
  _path: string,
  _query: URLSearchParams,
  _body: string,
): Promise<void> {
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{}');
}
