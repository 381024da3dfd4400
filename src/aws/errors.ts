import { SgsyncError } from '../core/errors.js';
import { redactSecrets } from './secrets.js';

/** Where an AWS call was made, so that a message can say what to do about it. */
export interface CallContext {
  action: string;
  region: string;
  groupId?: string;
  /** The named profile the credentials were to come from (`--profile`, `aws.profile`). */
  profile?: string;
}

interface AwsLikeError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/**
 * True when EC2's error `name` for `action` means the change is already
 * made: the rule to authorize exists (`InvalidPermission.Duplicate`), the rule
 * to revoke is gone (`InvalidPermission.NotFound`,
 * `InvalidSecurityGroupRuleId.NotFound`). Writers racing each other, or
 * reading behind their own writes, meet these as a matter of course: the
 * adapter takes them as success (safety rule 7), and the call statistics
 * count them apart from errors.
 */
/** The error's name, which is AWS's error code for an SDK service error (`InvalidPermission.Duplicate`). */
export function errorName(e: unknown): string | undefined {
  const name = (e as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

export function isAlreadyDone(action: string, name: string | undefined): boolean {
  if (action === 'AuthorizeSecurityGroupIngress') return name === 'InvalidPermission.Duplicate';
  if (action === 'RevokeSecurityGroupIngress') return name === 'InvalidPermission.NotFound' || name === 'InvalidSecurityGroupRuleId.NotFound';
  return false;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

/**
 * Maps any error from the SDK to an SgsyncError with a code, a retryable
 * flag and a message that tells the user what to do. This is the only place
 * that knows EC2's error names.
 */
export function mapAwsError(error: unknown, ctx: CallContext): SgsyncError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as AwsLikeError;
  const name = e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  const where = `${ctx.action} in ${ctx.region}${ctx.groupId ? ` on ${ctx.groupId}` : ''}`;
  // The message is the endpoint's text: one that echoes the request's session token must not carry it further.
  const detail = e.message ? `: ${redactSecrets(String(e.message))}` : '';
  // The same, for a sentence of sgsync's own to follow: without the full stop it may end with.
  const clause = detail.replace(/\.+$/, '');
  const details = { awsError: name || e.code, action: ctx.action, region: ctx.region, groupId: ctx.groupId };

  switch (name) {
    case 'UnauthorizedOperation':
    case 'AccessDenied':
    case 'AccessDeniedException':
      return new SgsyncError(
        'PERMISSION_DENIED',
        `AWS denied ec2:${ctx.action} in ${ctx.region}${ctx.groupId ? ` on ${ctx.groupId}` : ''}. ` +
          `Grant it to this role (print a least-privilege policy with \`sgsync iam policy\`)${detail}`,
        { cause: error, details },
      );
    case 'AuthFailure':
      // Not a missing permission: the request itself was not accepted as the account's.
      return new SgsyncError(
        'PERMISSION_DENIED',
        `AWS did not accept the credentials for ec2:${ctx.action} in ${ctx.region}. ` +
          `Check that ${ctx.region} is enabled for the account (opt-in regions are not until enabled), then the access keys and this machine's clock${detail}`,
        { cause: error, details },
      );
    case 'RulesPerSecurityGroupLimitExceeded':
      return new SgsyncError(
        'CAPACITY_EXHAUSTED',
        `${ctx.groupId ?? 'The security group'} in ${ctx.region} has reached its rules quota. ` +
          `Add a group to the target's pool or raise the quota (Service Quotas L-0EA8095F) and set it in the config.`,
        { cause: error, details },
      );
    case 'InvalidGroup.NotFound':
      return new SgsyncError(
        'NOT_FOUND',
        `Security group ${ctx.groupId ?? ''} does not exist in ${ctx.region}. Security groups are regional: ` +
          `check that the target's region is the region the group lives in.`,
        { cause: error, details },
      );
    case 'InvalidGroupId.Malformed':
      return new SgsyncError('INVALID_REQUEST', `${ctx.groupId ?? 'A group id'} is not a security group id (sg-…)${detail}`, {
        cause: error,
        details,
      });
    case 'RequestLimitExceeded':
    case 'Throttling':
    case 'ThrottlingException':
      return new SgsyncError(
        'THROTTLED',
        `AWS kept throttling ${where} after retries. Lower the concurrency or try again later.`,
        { cause: error, retryable: true, details },
      );
    case 'InvalidParameterValue':
    case 'InvalidParameterCombination':
    case 'MissingParameter':
    case 'InvalidPermission.Malformed':
      return new SgsyncError('INVALID_REQUEST', `AWS rejected ${where} as invalid${detail}`, { cause: error, details });
    case 'CredentialsProviderError':
      return new SgsyncError(
        'PERMISSION_DENIED',
        ctx.profile
          ? `No AWS credentials were found for ${where} in the profile "${ctx.profile}". ` +
              `Check that ~/.aws/config or ~/.aws/credentials (or AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE) define it${detail}`
          : `No AWS credentials were found for ${where}. Set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ` +
              `or run on an instance with a role${detail}`,
        { cause: error, details },
      );
  }
  if ((status !== undefined && status >= 500) || name === 'InternalError' || name === 'Unavailable' || name === 'ServiceUnavailable') {
    return new SgsyncError('AWS_UNAVAILABLE', `AWS kept failing ${where} (HTTP ${status ?? '5xx'})${clause}. Try again later.`, {
      cause: error,
      retryable: true,
      details,
    });
  }
  if (NETWORK_CODES.has(e.code ?? '') || NETWORK_CODES.has(name) || name === 'TimeoutError' || name === 'AbortError' || /socket hang up|ECONN/i.test(e.message ?? '')) {
    return new SgsyncError(
      'AWS_UNAVAILABLE',
      `Could not reach the EC2 endpoint for ${where}${clause}. Check the network, --endpoint and AWS_ENDPOINT_URL.`,
      { cause: error, retryable: true, details },
    );
  }
  return new SgsyncError('INTERNAL', `AWS answered ${where} with ${name || 'an unknown error'}${detail}`, { cause: error, details });
}
