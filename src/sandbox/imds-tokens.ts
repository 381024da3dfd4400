import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A token from the root `/latest/api/token`, valid for every instance. */
export const ANY_INSTANCE = '*';

/**
 * IMDSv2 session tokens. A token carries its scope (one instance, or any) and
 * its expiry on the sandbox clock, sealed with a per-sandbox key, so the
 * sandbox keeps no per-token state however many tokens clients ask for (the
 * AWS SDK's metadata client asks for one per request).
 */
export class ImdsTokens {
  private readonly key = randomBytes(32);

  /**
   * @param now the sandbox clock
   * @param epoch the current token epoch: a token issued in an earlier one is
   *   refused, as tokens are after the metadata service restarts
   */
  constructor(
    readonly now: () => number,
    private readonly epoch: () => number = () => 0,
  ) {}

  /** A token for `scope` (an instance id or {@link ANY_INSTANCE}) that expires after `ttlSeconds`. */
  issue(scope: string, ttlSeconds: number): string {
    const payload = Buffer.from(`${this.now() + ttlSeconds * 1000}:${this.epoch()}:${scope}`).toString('base64url');
    return `${payload}.${this.seal(payload)}`;
  }

  /** Whether `token` was issued here, has not expired and covers `instanceId`. */
  accepts(token: string | undefined, instanceId: string): boolean {
    if (!token) return false;
    const [payload, seal, extra] = token.split('.');
    if (!payload || !seal || extra !== undefined) return false;
    const expected = Buffer.from(this.seal(payload));
    const given = Buffer.from(seal);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return false;
    const text = Buffer.from(payload, 'base64url').toString('utf8');
    const [expires, epoch, ...rest] = text.split(':');
    const scope = rest.join(':');
    return this.now() < Number(expires) && Number(epoch) === this.epoch() && (scope === ANY_INSTANCE || scope === instanceId);
  }

  private seal(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
