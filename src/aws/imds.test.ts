import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Imds } from './imds.js';

/**
 * A metadata service that accepts only the newest token it issued, as one
 * that restarted accepts none of the old ones, and counts token requests.
 */
async function metadataService(): Promise<{ server: Server; url: string; tokens: () => number; restart: () => void }> {
  let issued = 0;
  let valid = '';
  const server = createServer((req, res) => {
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      valid = `token-${++issued}`;
      res.end(valid);
      return;
    }
    if (req.headers['x-aws-ec2-metadata-token'] !== valid) {
      res.statusCode = 401;
      res.end('Unauthorized');
      return;
    }
    res.end(req.url === '/latest/meta-data/local-ipv4' ? '10.0.0.7' : 'value');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, tokens: () => issued, restart: () => (valid = 'none yet') };
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

describe('the IMDSv2 client', () => {
  it('asks for one token and reuses it', async () => {
    const mds = await metadataService();
    server = mds.server;
    const imds = new Imds({ endpoint: mds.url });
    await imds.lifecycleState();
    await imds.spotNotice();
    imds.close();
    expect(mds.tokens()).toBe(1);
  });

  it('after the service forgot its token, fetches one new token for reads refused together, and they all succeed', async () => {
    const mds = await metadataService();
    server = mds.server;
    const imds = new Imds({ endpoint: mds.url });
    await imds.lifecycleState();
    mds.restart();
    const answers = await Promise.all([imds.lifecycleState(), imds.lifecycleState(), imds.spotNotice().then(() => 'notice read'), imds.lifecycleState()]);
    imds.close();
    expect(answers).toEqual(['value', 'value', 'notice read', 'value']);
    expect(mds.tokens()).toBe(2);
  });
});
