import { MetadataService } from '@aws-sdk/ec2-metadata-service';
import { SgsyncError } from '../core/errors.js';
import type { Member } from '../core/model.js';
import type { InstancePort } from '../core/ports.js';

export interface ImdsOptions {
  /** Overrides AWS_EC2_METADATA_SERVICE_ENDPOINT and the default 169.254.169.254. */
  endpoint?: string;
  /** Per-request timeout; IMDS answers in milliseconds on an instance, so a short one means "not on an instance" quickly. */
  timeoutMs?: number;
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

function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/**
 * The instance the agent runs on, read through IMDSv2. Paths carry no leading
 * slash: the SDK appends them to the endpoint's path as they are.
 */
export class Imds implements InstancePort {
  private readonly service: MetadataService;

  constructor(options: ImdsOptions = {}) {
    const timeout = options.timeoutMs ?? 2000;
    this.service = new MetadataService({
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      httpOptions: { timeout },
      retries: 2,
      backoff: 0.2,
    });
  }

  /** A metadata path, or undefined when IMDS says it does not exist (404). */
  private async optional(path: string): Promise<string | undefined> {
    try {
      return await this.service.request(path, {});
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
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
      `Could not read ${path} from the instance metadata service (IMDSv2): ${reason}. ` +
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
}
