import { Agent, request, type IncomingMessage } from 'node:http';
import { classifyAddress } from '../core/addresses.js';
import { SgsyncError } from '../core/errors.js';
import { INSTANCE_ID_PATTERN } from '../core/instance-id-index.js';
import { orderIpv6, type InterfaceIpv6 } from '../core/ipv6-order.js';
import type { Family, Member } from '../core/model.js';
import type { InstancePort } from '../core/ports.js';

export interface ImdsOptions {
  /** Overrides AWS_EC2_METADATA_SERVICE_ENDPOINT and the default 169.254.169.254. */
  endpoint?: string;
  /**
   * Per-request timeout. IMDS answers in milliseconds, but an instance that is
   * still booting can be too busy to read the answer promptly; too short a
   * timeout turns that into a false "not on an instance".
   */
  timeoutMs?: number;
  /** Attempts per request for connection failures and 5xx answers. */
  attempts?: number;
  /** The environment to read the endpoint variables from. */
  env?: NodeJS.ProcessEnv;
}

interface IdentityDocument {
  accountId: string;
  instanceId: string;
  region: string;
  availabilityZone?: string;
  privateIp?: string;
  instanceType?: string;
  pendingTime?: string;
}

/** Six hours, IMDS's longest token: `watch` then fetches a new one only a few times a day. */
const TOKEN_TTL_SECONDS = 21_600;

/** Every answer the agent reads is small (the identity document is under 1 KiB); anything far larger is not IMDS. */
export const MAX_ANSWER_BYTES = 64 * 1024;
/** AWS allows 50 user tags per instance. */
const MAX_TAGS = 50;
/** More network interfaces than any instance type takes (the largest take a few dozen). */
const MAX_INTERFACES = 128;
/** A MAC address as IMDS writes one: `0e:49:61:0f:c3:11`. */
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const ACCOUNT_ID = /^\d{12}$/;
const INSTANCE_TYPE = /^[a-z0-9][a-z0-9.-]{0,63}$/;
/**
 * A tag key IMDS can show. With tags in instance metadata on, AWS allows only
 * letters, digits and `+ - = . , _ : @` in keys (no spaces, no `/`), and not
 * `.`, `..` or `_index` alone; every one of these may stand in a URL path
 * as it is, so a key is asked for unencoded.
 */
const TAG_KEY = /^(?!\.\.?$|_index$)[A-Za-z0-9+\-=.,_:@]{1,128}$/;

/** A parsed JSON value in a few words, for a message. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value) ?? ''}`.slice(0, 80);
}

class ImdsAnswer extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/** The metadata service's base URL, the way the AWS SDKs find it. */
export function imdsEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.AWS_EC2_METADATA_SERVICE_ENDPOINT?.trim();
  if (explicit) return explicit;
  return env.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE?.trim().toLowerCase() === 'ipv6' ? 'http://[fd00:ec2::254]' : 'http://169.254.169.254';
}

/**
 * The instance the agent runs on, read through IMDSv2: one session token,
 * reused until shortly before it expires (and fetched again on a 401), over
 * kept-alive connections whose every answer is read to the end, so a
 * short-lived `register` exits as soon as its work is done and a long `watch`
 * never piles up half-read connections. Paths are relative to the endpoint,
 * so an endpoint with a path (a per-instance emulator) works as well as the
 * link-local address.
 */
export class Imds implements InstancePort {
  private readonly base: URL;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });
  private token?: { value: string; expiresAt: number };
  private pendingToken?: Promise<string>;

  constructor(options: ImdsOptions = {}) {
    const raw = options.endpoint ?? imdsEndpoint(options.env);
    this.base = new URL(raw.endsWith('/') ? raw : `${raw}/`);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.attempts = Math.max(1, options.attempts ?? 3);
  }

  private send(method: 'GET' | 'PUT', path: string, headers: Record<string, string>): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, this.base), { method, headers, agent: this.agent, timeout: this.timeoutMs }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        // Read every answer to its end, errors included: an unread body keeps its connection (and the process) busy.
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) req.destroy(new Error(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new ImdsAnswer(res.statusCode ?? 0))));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('the answer was cut short')));
      });
      // The socket timeout only notices silence; an answer that trickles in a byte at a time needs a deadline too.
      const deadline = setTimeout(() => req.destroy(new Error(`no complete answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      req.on('close', () => clearTimeout(deadline));
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  /** Retries what a moment may fix (no connection, 5xx); a 4xx is an answer. */
  private async withRetry(call: () => Promise<string>): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (e) {
        const final = e instanceof ImdsAnswer && e.status < 500;
        if (final || attempt >= this.attempts) throw e;
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  private sessionToken(): Promise<string> {
    if (this.token && Date.now() < this.token.expiresAt) return Promise.resolve(this.token.value);
    // Reads running in parallel share one token request rather than each asking for its own.
    this.pendingToken ??= this.withRetry(() => this.send('PUT', 'latest/api/token', { 'x-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_SECONDS) }))
      .then((value) => {
        this.token = { value, expiresAt: Date.now() + (TOKEN_TTL_SECONDS - 60) * 1000 };
        return value;
      })
      .finally(() => (this.pendingToken = undefined));
    return this.pendingToken;
  }

  /** A metadata path, or undefined when IMDS says it does not exist (404). */
  private async optional(path: string): Promise<string | undefined> {
    try {
      return await this.withRetry(async () => {
        const used = await this.sessionToken();
        try {
          return await this.send('GET', path, { 'x-aws-ec2-metadata-token': used });
        } catch (e) {
          if (!(e instanceof ImdsAnswer && e.status === 401)) throw e;
          // The token expired or the service restarted: one new token, one more try. Only the
          // refused token is dropped, so parallel reads refused together fetch one new token, not one each.
          if (this.token?.value === used) this.token = undefined;
          return await this.send('GET', path, { 'x-aws-ec2-metadata-token': await this.sessionToken() });
        }
      });
    } catch (e) {
      if (e instanceof ImdsAnswer && e.status === 404) return undefined;
      throw this.unreachable(path, e);
    }
  }

  private async required(path: string): Promise<string> {
    const value = await this.optional(path);
    if (value === undefined) throw this.unreachable(path, new Error('404 Not Found'));
    return value;
  }

  /**
   * The endpoint as configured, path included (`…/imds/i-…/` for the
   * sandbox's per-instance service), so a message names the service that
   * was asked; user info and query are left out.
   */
  private where(): string {
    return `${this.base.origin}${this.base.pathname}`;
  }

  private unreachable(path: string, cause: unknown): SgsyncError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new SgsyncError(
      'NOT_ON_INSTANCE',
      `Could not read ${path} from the instance metadata service (IMDSv2) at ${this.where()}: ${reason}. ` +
        `Run the agent on an EC2 instance with IMDS enabled (HttpTokens required is fine), ` +
        `or set AWS_EC2_METADATA_SERVICE_ENDPOINT.`,
      { cause, retryable: true },
    );
  }

  /** An answer IMDS gave but no instance would: refused, so that nothing unchecked reaches a rule. */
  private garbled(path: string, value: unknown, expected: string): SgsyncError {
    const shown = typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value) : describe(value);
    return new SgsyncError(
      'NOT_ON_INSTANCE',
      `The instance metadata service at ${this.where()} answered ${path} with ${shown}, which is not ${expected}. ` +
        `Check AWS_EC2_METADATA_SERVICE_ENDPOINT: it must point at the instance metadata service.`,
      { details: { path } },
    );
  }

  private identity(text: string): IdentityDocument {
    const path = 'latest/dynamic/instance-identity/document';
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw this.garbled(path, text, 'a JSON identity document');
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw this.garbled(path, doc, 'a JSON identity document');
    const d = doc as Record<string, unknown>;
    const field = (key: string, pattern: RegExp, expected: string): string => {
      const v = d[key];
      if (typeof v !== 'string' || !pattern.test(v)) throw this.garbled(`${path} (${key})`, v, expected);
      return v;
    };
    const optional = (key: string, ok: (v: string) => boolean): string | undefined => {
      const v = d[key];
      return typeof v === 'string' && ok(v) ? v : undefined;
    };
    return {
      instanceId: field('instanceId', INSTANCE_ID_PATTERN, 'an instance id such as i-0123456789abcdef0'),
      region: field('region', REGION, 'a region name such as eu-west-1'),
      accountId: field('accountId', ACCOUNT_ID, 'a 12-digit account id'),
      privateIp: optional('privateIp', (v) => classifyAddress(v)?.family === 'ipv4'),
      instanceType: optional('instanceType', (v) => INSTANCE_TYPE.test(v)),
      pendingTime: optional('pendingTime', (v) => /^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/.test(v) && Number.isFinite(Date.parse(v))),
    };
  }

  /** An address path: absent (404) is fine, anything but one address of the family is refused. */
  private async address(path: string, family: Family): Promise<string | undefined> {
    const text = await this.optional(path);
    if (text === undefined || text.trim() === '') return undefined;
    // IMDS lists one address per line; the first is the primary one.
    const first = family === 'ipv6' ? (text.trim().split('\n')[0] ?? '') : text;
    const address = classifyAddress(first.trim());
    if (address?.family !== family) throw this.garbled(path, text, `an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address`);
    return address.canonical;
  }

  /** One IPv6 address a line (`…/ipv6s`): absent (404) is none, any line but an IPv6 address is refused. */
  private async addressList(path: string): Promise<string[]> {
    const lines = ((await this.optional(path)) ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
    return lines.map((line) => {
      const address = classifyAddress(line);
      if (address?.family !== 'ipv6') throw this.garbled(path, line, 'an IPv6 address');
      return address.canonical;
    });
  }

  /**
   * Every IPv6 address of the instance, in the order the controller puts
   * them too (see `orderIpv6`): each interface's `ipv6s`, the primary one
   * named by `mac`, and `ipv6` (the primary interface's first assigned). An
   * IMDS without the interface listing still gives `ipv6`.
   */
  private async ipv6Addresses(): Promise<string[]> {
    const macsPath = 'latest/meta-data/network/interfaces/macs/';
    const [first, primaryMac, macList] = await Promise.all([
      this.address('latest/meta-data/ipv6', 'ipv6'),
      this.optional('latest/meta-data/mac'),
      this.optional(macsPath),
    ]);
    const macs = (macList ?? '').split('\n').map((l) => l.trim().replace(/\/$/, '')).filter(Boolean);
    if (macs.length > MAX_INTERFACES) throw this.garbled(macsPath, `${macs.length} interfaces`, `at most ${MAX_INTERFACES} network interfaces`);
    for (const mac of macs) if (!MAC.test(mac)) throw this.garbled(macsPath, mac, 'a MAC address');
    const primary = primaryMac?.trim().toLowerCase();
    const interfaces: InterfaceIpv6[] = await Promise.all(
      macs.map(async (mac) => ({ primary: mac.toLowerCase() === primary, addresses: await this.addressList(`${macsPath}${mac}/ipv6s`) })),
    );
    return orderIpv6([...interfaces, { primary: true, addresses: [first] }]);
  }

  async self(): Promise<Member> {
    const doc = this.identity(await this.required('latest/dynamic/instance-identity/document'));
    const [publicIpv4, localIpv4, ipv6, tagKeys] = await Promise.all([
      this.address('latest/meta-data/public-ipv4', 'ipv4'),
      this.address('latest/meta-data/local-ipv4', 'ipv4'),
      this.ipv6Addresses(),
      this.optional('latest/meta-data/tags/instance'),
    ]);
    const keys = (tagKeys ?? '').split('\n').filter(Boolean);
    if (keys.length > MAX_TAGS) throw this.garbled('latest/meta-data/tags/instance', `${keys.length} keys`, `at most ${MAX_TAGS} tag keys`);
    const tags: Record<string, string> = {};
    for (const key of keys) {
      if (!TAG_KEY.test(key)) throw this.garbled('latest/meta-data/tags/instance', key, 'a tag key');
      const value = await this.optional(`latest/meta-data/tags/instance/${key}`);
      if (value !== undefined) Object.defineProperty(tags, key, { value, enumerable: true, writable: true, configurable: true });
    }
    return {
      instanceId: doc.instanceId,
      region: doc.region,
      accountId: doc.accountId,
      state: 'running',
      publicIpv4,
      privateIpv4: localIpv4 ?? doc.privateIp,
      ipv6,
      tags,
      launchTime: doc.pendingTime,
      instanceType: doc.instanceType,
    };
  }

  /** Whether instance tags are readable through IMDS (the instance option must be enabled). */
  async tagsEnabled(): Promise<boolean> {
    return (await this.optional('latest/meta-data/tags/instance')) !== undefined;
  }

  async spotNotice(): Promise<{ action: string; time: string } | undefined> {
    const body = await this.optional('latest/meta-data/spot/instance-action');
    if (!body) return undefined;
    // Any answer here is a notice: one that cannot be read is still a reason to leave.
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    const p = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    const action = typeof p.action === 'string' && /^(terminate|stop|hibernate)$/.test(p.action) ? p.action : 'terminate';
    const time = typeof p.time === 'string' && Number.isFinite(Date.parse(p.time)) ? p.time : '';
    return { action, time };
  }

  async lifecycleState(): Promise<string | undefined> {
    const state = (await this.optional('latest/meta-data/autoscaling/target-lifecycle-state'))?.trim();
    // States are short words (InService, Terminated, Warmed:Pending…); anything else is not one.
    return state === undefined || /^[A-Za-z:]{1,64}$/.test(state) ? state : undefined;
  }

  /** Closes kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}
