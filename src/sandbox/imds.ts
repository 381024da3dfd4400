import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Sandbox } from './sandbox.js';

// OWNED BY: instances/IMDS helper. Interface fixed; implementation to be written.
export class ImdsTokens {
  constructor(readonly now: () => number) {}
}

export function handleImds(_sandbox: Sandbox, _req: IncomingMessage, res: ServerResponse, _path: string): void {
  res.writeHead(404);
  res.end();
}
