/**
 * Credentials never reach what sgsync writes: not its logs (JSON or text),
 * not its error lines, not the messages of mapped AWS errors — even when an
 * endpoint echoes the request's session token back, or a user pastes a
 * secret into the configuration.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mapAwsError } from '../../src/aws/errors.js';
import { redactSecrets } from '../../src/aws/secrets.js';
import { registerCommands } from '../../src/cli/commands.js';
import { createLogger } from '../../src/cli/logger.js';
import { runCli } from '../../src/cli/run.js';
import { parseConfig } from '../../src/config/index.js';
import { SgsyncError } from '../../src/core/errors.js';
import { startHostileServer, type HostileServer } from '../fuzz/hostile-server.js';

const ACCESS_KEY = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLE+session/token==';
const ENV = { AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET, AWS_SESSION_TOKEN: TOKEN };

const saved: Record<string, string | undefined> = {};
beforeAll(() => {
  for (const [k, v] of Object.entries(ENV)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

function expectNoSecret(text: string): void {
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain(JSON.stringify(TOKEN).slice(1, -1));
}

describe('the logger', () => {
  it.each(['json', 'text'] as const)('blanks credentials in %s lines, whether under their own key or inside a message', (format) => {
    const lines: string[] = [];
    const log = createLogger({ format, level: 'debug', destination: { write: (l) => lines.push(l) }, env: ENV });
    const credentials = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET, sessionToken: TOKEN };
    log.info({ credentials }, 'client made');
    log.debug({ config: { credentials, region: 'eu-west-1' } }, 'config');
    log.warn({ request: { headers: { authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}`, 'x-amz-security-token': TOKEN } } }, 'request');
    log.error({ err: new Error(`endpoint said: token ${TOKEN} key ${SECRET}`) }, `pass failed: ${TOKEN}`);
    log.info({ nested: { deeper: { secretAccessKey: SECRET } } }, 'nested');
    const out = lines.join('');
    expect(lines.length).toBe(5);
    expectNoSecret(out);
    expect(out).toContain('[redacted]');
    // What is not a secret still gets through.
    expect(out).toContain('eu-west-1');
  });
});

describe('a mapped AWS error', () => {
  it.each(['UnauthorizedOperation', 'InvalidParameterValue', 'InternalError', 'SomethingNew', 'CredentialsProviderError'])('does not carry a secret the endpoint echoed (%s)', (name) => {
    const err = mapAwsError(Object.assign(new Error(`bad request with X-Amz-Security-Token: ${TOKEN}, secret ${SECRET}`), { name, $metadata: { httpStatusCode: 500 } }), { action: 'DescribeInstances', region: 'eu-west-1' });
    expectNoSecret(err.message);
    expectNoSecret(JSON.stringify(err.details));
  });

  it('leaves text without secrets as it was', () => {
    expect(redactSecrets('sg-0123 in eu-west-1', [SECRET, TOKEN])).toBe('sg-0123 in eu-west-1');
  });
});

describe('a configuration with credentials pasted in', () => {
  it.each([
    ['top-level keys', `aws_secret_access_key: ${SECRET}\naws_session_token: "${TOKEN}"\n`],
    ['keys under aws', `aws: {secretAccessKey: ${SECRET}, sessionToken: "${TOKEN}", profile: default}\n`],
    ['a secret as the profile value of the wrong type', `aws: {profile: [${SECRET}]}\n`],
  ])('is refused without repeating them (%s)', (_what, extra) => {
    const text = `deployment: prod\ntargets:\n  - name: api\n    region: us-east-1\n    groups: [sg-0a1b2c3d4e5f60718]\n    ports: [443]\n    members: {}\n${extra}`;
    let err: unknown;
    try {
      parseConfig(text, 'sgsync.yaml', ENV);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SgsyncError);
    expectNoSecret((err as SgsyncError).message);
  });
});

describe('a pass against an endpoint that echoes the session token', () => {
  let server: HostileServer;
  let dir: string;
  const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
  beforeAll(async () => {
    server = await startHostileServer((req, res) => {
      // Whatever the call, answer with an error that quotes the request's credentials back.
      const echoed = `token=${String(req.headers['x-amz-security-token'])} auth=${String(req.headers.authorization)}`;
      res.writeHead(403, { 'content-type': 'text/xml' }).end(`<?xml version="1.0"?><Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>${echoed}</Message></Error></Errors><RequestID>r</RequestID></Response>`);
    });
    dir = mkdtempSync(join(tmpdir(), 'sgsync-secrets-'));
    writeFileSync(join(dir, 'sgsync.yaml'), `deployment: prod\ntargets:\n  - name: api\n    region: us-east-1\n    groups: [sg-0a1b2c3d4e5f60718]\n    ports: [443]\n    members: {regions: [eu-west-1]}\ncontroller: {regions: [eu-west-1]}\nagent: {retries: 0}\naws: {endpoint: "${server.url}"}\n`);
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    if (tty) Object.defineProperty(process.stderr, 'isTTY', tty);
    else delete (process.stderr as { isTTY?: boolean }).isTTY;
  });

  it.each([
    ['plan', '--json'],
    ['reconcile', '--json'],
  ])('writes neither the secret key nor the session token anywhere (%s)', async (command, flag) => {
    // Text logs go through process.stderr, where this test can read them; JSON logs are checked above.
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
    let out = '';
    const program = new Command('sgsync').exitOverride();
    program.configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (out += s) });
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((out += String(s)), true));
    const before = process.exitCode;
    try {
      await registerCommands(program, [command]);
      await runCli(program, ['node', 'sgsync', command, '-c', join(dir, 'sgsync.yaml'), flag, '--log-level', 'debug']);
    } finally {
      process.exitCode = before;
      stdout.mockRestore();
      stderr.mockRestore();
    }
    // The endpoint's echo did reach sgsync (the failure is reported), only without the credentials.
    expect(out).toContain('token=[redacted]');
    expectNoSecret(out);
  });
});
