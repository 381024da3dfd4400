import { errors } from './errors.js';
import type { Params } from './query.js';

/**
 * EC2's pagination: `MaxResults` (5–1000 unless an action says otherwise) and
 * an opaque `NextToken`. The sandbox's token records the position after the
 * last item returned and a fingerprint of the query, so a token cannot be
 * replayed against another query.
 */
export interface PageRequest {
  /** Items per page; undefined when the caller did not paginate. */
  maxResults?: number;
  /** Position to resume at (0 on the first page). */
  start: number;
}

export function readPageRequest(params: Params, fingerprint: string, bounds = { min: 5, max: 1000 }): PageRequest {
  const maxResults = params.int('MaxResults', bounds);
  const token = params.str('NextToken');
  if (token === undefined) return { maxResults, start: 0 };
  const start = decodeToken(token, fingerprint);
  return { maxResults, start };
}

export function encodeToken(position: number, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ p: position, f: hash(fingerprint) })).toString('base64url');
}

export function decodeToken(token: string, fingerprint: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { p?: unknown; f?: unknown };
    if (typeof parsed.p === 'number' && Number.isInteger(parsed.p) && parsed.p >= 0 && parsed.f === hash(fingerprint)) {
      return parsed.p;
    }
  } catch {
    // fall through to the error AWS gives for a token it did not issue
  }
  throw errors.invalidValue(`The token '${token.slice(0, 64)}' is invalid for this request.`);
}

/** A query's identity, from every parameter except the paging ones. */
export function fingerprintOf(params: Params, ignore: readonly string[] = ['NextToken', 'MaxResults']): string {
  return JSON.stringify(params.flat().filter(([k]) => !ignore.includes(k.split('.')[0]!)));
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}
