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

/** An IMDSv2 for one instance with the given tags, as an HTTP server that decodes the paths it is asked for. */
async function taggedInstance(tags: Record<string, string>, prefix = '/'): Promise<{ server: Server; url: string }> {
  const paths: Record<string, string> = {
    [`${prefix}latest/dynamic/instance-identity/document`]: JSON.stringify({ accountId: '123456789012', instanceId: 'i-0123456789abcdef0', region: 'eu-west-1', privateIp: '10.0.0.5' }),
    [`${prefix}latest/meta-data/local-ipv4`]: '10.0.0.5',
    [`${prefix}latest/meta-data/tags/instance`]: Object.keys(tags).join('\n'),
    ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`${prefix}latest/meta-data/tags/instance/${k}`, v])),
  };
  const s = createServer((req, res) => {
    if (req.method === 'PUT') return void res.end('token');
    const body = paths[decodeURIComponent(req.url ?? '')];
    if (body === undefined) res.statusCode = 404;
    res.end(body ?? 'Not Found');
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { server: s, url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/` };
}

describe('instance tags from IMDS', () => {
  it('reads every key AWS allows in metadata, a comma and + - = . _ : @ included', async () => {
    const tags = { role: 'worker', 'cost,center': 'cc-1', 'a+b=c': '1', 'team:name@x': '2', 'v1.2_x-y': '3' };
    const mds = await taggedInstance(tags);
    server = mds.server;
    const imds = new Imds({ endpoint: mds.url });
    const self = await imds.self();
    imds.close();
    expect(self.tags).toEqual(tags);
  });

  it.each(['with space', 'k8s.io/role', '.', '..', '_index'])('refuses the key %j, which AWS never shows', async (key) => {
    const mds = await taggedInstance({ [key]: 'x' });
    server = mds.server;
    const imds = new Imds({ endpoint: mds.url });
    await expect(imds.self()).rejects.toMatchObject({ code: 'NOT_ON_INSTANCE', message: expect.stringContaining('which is not a tag key') });
    imds.close();
  });
});

describe('IMDS error messages', () => {
  it('name the endpoint as configured, with its path', async () => {
    // A port nothing listens on.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const imds = new Imds({ endpoint: `http://127.0.0.1:${port}/imds/i-0123456789abcdef0/`, attempts: 1 });
    await expect(imds.self()).rejects.toMatchObject({
      code: 'NOT_ON_INSTANCE',
      message: expect.stringContaining(`(IMDSv2) at http://127.0.0.1:${port}/imds/i-0123456789abcdef0/: `),
    });
    imds.close();
  });

  it('name it with its path when an answer is not what IMDS would give', async () => {
    const mds = await taggedInstance({ 'k8s.io/role': 'x' }, '/imds/i-0123456789abcdef0/');
    server = mds.server;
    const imds = new Imds({ endpoint: `${mds.url}imds/i-0123456789abcdef0/` });
    await expect(imds.self()).rejects.toMatchObject({
      message: expect.stringContaining(`The instance metadata service at ${mds.url}imds/i-0123456789abcdef0/ answered latest/meta-data/tags/instance with "k8s.io/role", which is not a tag key`),
    });
    imds.close();
  });
});
