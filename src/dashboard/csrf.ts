/**
 * Protection of the one state-changing request, "reconcile now", against
 * cross-site requests: a secret token per process in a hidden form field,
 * plus the browser's own word on where the request came from (Origin,
 * Sec-Fetch-Site). Either check alone stops a forged form on another site;
 * both together also cover old browsers and proxies that strip headers.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh secret: 32 random bytes, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export interface PostFacts {
  /** The token the form sent. */
  token: string | undefined;
  /** The token this process issued. */
  expected: string;
  origin: string | undefined;
  secFetchSite: string | undefined;
  /** The Host header: the origin a same-site form was served from. */
  host: string | undefined;
}

/** Why a POST is refused, or undefined when it may proceed. */
export function refuseCrossSite(facts: PostFacts): string | undefined {
  if (facts.secFetchSite !== undefined && facts.secFetchSite !== 'same-origin') return `a ${facts.secFetchSite} request`;
  if (facts.origin !== undefined) {
    let host: string;
    try {
      host = new URL(facts.origin).host;
    } catch {
      return `origin ${facts.origin}`;
    }
    if (!facts.host || host !== facts.host) return `origin ${facts.origin}`;
  }
  const given = Buffer.from(facts.token ?? '', 'utf8');
  const expected = Buffer.from(facts.expected, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'a missing or wrong form token';
  return undefined;
}
