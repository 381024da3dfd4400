/**
 * Default values of sgsync.yaml and the AWS limits the configuration is
 * checked against. The schema, the docs and the tests all read them from
 * here, so a default is changed in one place.
 */

/** What a key left out of sgsync.yaml means. */
export const DEFAULTS = {
  families: ['ipv4'] as const,
  address: 'public' as const,
  /** AWS's default inbound rules per security group, per family. */
  quota: 60,
  safety: {
    /** EC2 reads are eventually consistent: a new rule's instance may not be visible yet. */
    graceSeconds: 300,
    revokeLimit: { count: 50, fraction: 0.5 },
  },
  agent: {
    /** AWS suggests polling the spot interruption notice every 5 seconds. */
    pollSeconds: 5,
    waitSeconds: 60,
    tagsFrom: 'imds' as const,
    /** A fleet booting at once shares one throttling bucket; give agents room to wait their turn. */
    retries: 8,
  },
  aws: {
    /**
     * AWS's token buckets, per region (the EC2 throttling page): authorize and
     * revoke share one; each describe action has its own.
     */
    pacing: {
      securityGroupWrites: { burst: 50, perSecond: 5 },
      describes: { burst: 100, perSecond: 20 },
    },
  },
  controller: {
    intervalSeconds: 300,
    jitterSeconds: 30,
    concurrency: 8,
  },
} as const;

/** AWS quotas that decide whether a pool can exist at all (see docs/configuration.md). */
export const AWS_LIMITS = {
  /** Security groups per network interface: 5 by default, adjustable up to 16. */
  defaultGroupsPerInterface: 5,
  maxGroupsPerInterface: 16,
  /** Inbound rules per group (per family): 60 by default. */
  defaultRulesPerGroup: 60,
  /** Rules per group × groups per network interface may not exceed this. */
  maxRulesPerInterface: 1000,
} as const;

/** Where sgsync looks for its configuration when neither --config nor $SGSYNC_CONFIG is given. */
export const DEFAULT_CONFIG_FILE = 'sgsync.yaml';

/** Environment variables that override keys of the file (after it is read, before it is checked). */
export const ENV_OVERRIDES = [
  { variable: 'SGSYNC_DEPLOYMENT', path: ['deployment'] },
  { variable: 'SGSYNC_ENDPOINT', path: ['aws', 'endpoint'] },
] as const;
