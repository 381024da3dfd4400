import type { ErrorCode } from '../core/errors.js';

/**
 * sgsync's exit codes, documented in docs/exit-codes.md. Scripts and
 * systemd units depend on them, so they never change meaning.
 */
export const EXIT = {
  OK: 0,
  /** Something went wrong that has no more specific code. */
  FAILURE: 1,
  /** Bad command line. */
  USAGE: 2,
  /** The configuration file is missing or invalid. */
  CONFIG: 3,
  /** AWS denied an action (IAM). */
  PERMISSION: 4,
  /** No group in a target's pool has room. */
  CAPACITY: 5,
  /** AWS kept failing (throttling, 5xx, network) after retries. */
  AWS_UNAVAILABLE: 6,
  /** Not on an EC2 instance, or IMDS unreachable. */
  NOT_ON_INSTANCE: 7,
  /** A pass would revoke more than the blast-radius limit; none of those rules was revoked. */
  BLAST_RADIUS: 8,
  /** `plan`: changes are pending. `status`: something needs attention. */
  CHANGES_PENDING: 10,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'CONFIG_INVALID':
      return EXIT.CONFIG;
    case 'USAGE':
    case 'INVALID_REQUEST':
      return EXIT.USAGE;
    case 'PERMISSION_DENIED':
      return EXIT.PERMISSION;
    case 'CAPACITY_EXHAUSTED':
      return EXIT.CAPACITY;
    case 'AWS_UNAVAILABLE':
    case 'THROTTLED':
      return EXIT.AWS_UNAVAILABLE;
    case 'NOT_ON_INSTANCE':
      return EXIT.NOT_ON_INSTANCE;
    case 'BLAST_RADIUS':
      return EXIT.BLAST_RADIUS;
    case 'NOT_FOUND':
    case 'REFUSED':
    case 'INTERNAL':
      return EXIT.FAILURE;
  }
}
