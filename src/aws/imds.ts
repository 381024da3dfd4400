import { Agent, request, type IncomingMessage } from 'node:http';
import { SgsyncError } from '../core/errors.js';
import type { Member } from '../core/model.js';
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

  constructor(options: ImdsOptions = {}) {
    const raw = options.endpoint ?? imdsEndpoint(options.env);
    this.base = new URL(raw.endsWith('/') ? raw : `${raw}/`);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.attempts = Math.max(1, options.attempts ?? 3);
  }

  private send(method: 'GET' | 'PUT', path: string, headers: Record<string, string>): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, this.base), { method, headers, agent: this.agent, timeout: this.timeoutMs }, (res: IncomingMessage) => {
        let body = '';
        res.setEncoding('utf8');
        // Read every answer to its end, errors included: an unread body keeps its connection (and the process) busy.
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new ImdsAnswer(res.statusCode ?? 0))));
        res.on('error', reject);
      });
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

  private async sessionToken(): Promise<string> {
    if (this.token && Date.now() < this.token.expiresAt) return this.token.value;
    const value = await this.withRetry(() => this.send('PUT', 'latest/api/token', { 'x-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_SECONDS) }));
    this.token = { value, expiresAt: Date.now() + (TOKEN_TTL_SECONDS - 60) * 1000 };
    return value;
  }

  /** A metadata path, or undefined when IMDS says it does not exist (404). */
  private async optional(path: string): Promise<string | undefined> {
    try {
      return await this.withRetry(async () => {
        try {
          return await this.send('GET', path, { 'x-aws-ec2-metadata-token': await this.sessionToken() });
        } catch (e) {
          if (!(e instanceof ImdsAnswer && e.status === 401)) throw e;
          // The token expired or the service restarted: one new token, one more try.
          this.token = undefined;
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

  private unreachable(path: string, cause: unknown): SgsyncError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new SgsyncError(
      'NOT_ON_INSTANCE',
      `Could not read ${path} from the instance metadata service (IMDSv2) at ${this.base.origin}: ${reason}. ` +
        `Run the agent on an EC2 instance with IMDS enabled (HttpTokens required is fine), ` +
        `or set AWS_EC2_METADATA_SERVICE_ENDPOINT.`,
      { cause, retryable: true },
    );
  }

  async self(): Promise<Member> {
    const doc = JSON.parse(await this.required('latest/dynamic/instance-identity/document')) as IdentityDocument;
    const [publicIpv4, localIpv4, ipv6, tagKeys] = await Promise.all([
      this.optional('latest/meta-data/public-ipv4'),
      this.optional('latest/meta-data/local-ipv4'),
      this.optional('latest/meta-data/ipv6'),
      this.optional('latest/meta-data/tags/instance'),
    ]);
    const tags: Record<string, string> = {};
    for (const key of (tagKeys ?? '').split('\n').filter(Boolean)) {
      const value = await this.optional(`latest/meta-data/tags/instance/${encodeURIComponent(key)}`);
      if (value !== undefined) tags[key] = value;
    }
    return {
      instanceId: doc.instanceId,
      region: doc.region,
      accountId: doc.accountId,
      state: 'running',
      publicIpv4: publicIpv4?.trim() || undefined,
      privateIpv4: localIpv4?.trim() || doc.privateIp,
      ipv6: ipv6 ? [ipv6.trim()] : [],
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
    try {
      return JSON.parse(body) as { action: string; time: string };
    } catch {
      return { action: 'terminate', time: '' };
    }
  }

  async lifecycleState(): Promise<string | undefined> {
    return (await this.optional('latest/meta-data/autoscaling/target-lifecycle-state'))?.trim();
  }

  /** Closes kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}
