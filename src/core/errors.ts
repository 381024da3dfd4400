/**
 * sgsync's errors: a few classes, each with a stable `code`, a `retryable`
 * flag and a message that tells the user what to do. SDK error names are
 * mapped to these in `aws/` and nowhere else.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'PERMISSION_DENIED'
  | 'CAPACITY_EXHAUSTED'
  | 'AWS_UNAVAILABLE'
  | 'THROTTLED'
  /** A security group that does not exist in the region asked (EC2's `InvalidGroup.NotFound`). */
  | 'NOT_FOUND'
  | 'INVALID_REQUEST'
  | 'NOT_ON_INSTANCE'
  | 'BLAST_RADIUS'
  | 'REFUSED'
  | 'INTERNAL';

export class SgsyncError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** Extra facts for --json output and logs (never secrets). */
  readonly details: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { retryable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'SgsyncError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }
}

export function isSgsyncError(e: unknown): e is SgsyncError {
  return e instanceof SgsyncError;
}

/** What went wrong, in words: an error's message, or anything else thrown as text. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Why a file could not be opened or made, in words, from the error's code (`EISDIR`…); the code itself when it is another. */
export function fileProblem(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'ENOENT') return 'its directory does not exist';
  if (code === 'EEXIST' || code === 'ENOTDIR') return 'a file of that name is in the way';
  if (code === 'EACCES' || code === 'EPERM') return 'not allowed';
  return typeof code === 'string' ? code : String(e);
}
