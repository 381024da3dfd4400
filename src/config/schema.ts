/**
 * The one schema of sgsync.yaml. Everything else is derived from it: the
 * TypeScript types, the JSON Schema (`sgsync config schema`) and the
 * validation behind every command that reads a configuration.
 */
import * as z from 'zod';
import { crossCheck } from './checks.js';
import { DEFAULTS, AWS_LIMITS } from './defaults.js';
import { PORT_HINT, PORT_SHORTHAND_PATTERN, isPortShorthand, parsePortShorthand, portObjectProblems } from './ports.js';

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(JSON.stringify(v) ?? v));
const notAPort = (iss: { input?: unknown }): string => `${show(iss.input)} is not a port, ${PORT_HINT}`;

export const REGION_PATTERN = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
export const GROUP_ID_PATTERN = /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

const region = z
  .string()
  .regex(REGION_PATTERN, { error: (iss) => `${show(iss.input)} is not an AWS region name such as us-east-1` });

const groupId = z.string().regex(GROUP_ID_PATTERN, { error: (iss) => `${show(iss.input)} is not a security group id such as sg-0123456789abcdef0` });

const seconds = (max: number) => z.int().min(0).max(max);

const portNumber = z.int({ error: notAPort }).min(0, { error: notAPort }).max(65535, { error: notAPort });

const portString = z
  .string()
  .regex(new RegExp(PORT_SHORTHAND_PATTERN), { error: notAPort })
  .superRefine((s, ctx) => {
    if (!isPortShorthand(s)) return; // the pattern has said so already
    const parsed = parsePortShorthand(s);
    if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error, input: s });
  });

const icmpField = z.int().min(-1).max(255);
const portObject = z
  .strictObject({
    protocol: z.enum(['tcp', 'udp', 'icmp', 'icmpv6', 'all']),
    port: z.int().min(0).max(65535).optional(),
    from: z.int().min(0).max(65535).optional(),
    to: z.int().min(0).max(65535).optional(),
    type: icmpField.optional().describe('ICMP type; -1 or absent for every type'),
    code: icmpField.optional().describe('ICMP code; -1 or absent for every code'),
  })
  .superRefine((p, ctx) => {
    for (const { key, message } of portObjectProblems(p)) ctx.addIssue({ code: 'custom', path: key ? [key] : [], message });
  });

export const portSchema = z
  .union([portNumber, portString, portObject], { error: notAPort })
  .describe('A port: 443 (tcp), 443/tcp, 8000-8100/udp, icmp, icmpv6, all, or {protocol, port} / {protocol, from, to} / {protocol: icmp, type, code}');

const tagValue = z.union([z.string(), z.number(), z.boolean()]);
const tagMap = z.record(
  z.string().min(1).max(128),
  z.union([tagValue, z.array(tagValue).min(1, { error: 'list at least one value (or "*" for any value)' })]),
);

const selectorSchema = z
  .strictObject({
    regions: z.array(region).min(1).optional().describe('Only instances in these regions; absent: every region'),
    tags: tagMap.optional().describe('Every tag must match one of its values; "*" matches any value'),
  })
  .describe('Which instances are admitted. {} admits every instance.');

const targetSchema = z
  .strictObject({
    name: z
      .string()
      .max(64)
      .regex(/^[a-z0-9][a-z0-9._-]*$/, { error: 'use lower-case letters, digits, ".", "_" and "-", starting with a letter or digit' }),
    region: region.describe('Region of the security groups'),
    groups: z
      .array(groupId)
      .min(1, { error: 'list at least one security group' })
      .max(AWS_LIMITS.maxGroupsPerInterface, {
        error: `at most ${AWS_LIMITS.maxGroupsPerInterface} groups: AWS attaches at most ${AWS_LIMITS.maxGroupsPerInterface} security groups to a network interface`,
      })
      .describe('Pool of security groups: a new rule goes to the group its instance id picks, or the next with room'),
    retiredGroups: z
      .array(groupId)
      .max(AWS_LIMITS.maxGroupsPerInterface, { error: `at most ${AWS_LIMITS.maxGroupsPerInterface} retired groups` })
      .optional()
      .describe("Groups this target no longer uses: nothing is placed there, and its rules there are revoked once their members hold rules in the pool; remove a group once it is empty"),
    ports: z.array(portSchema).min(1, { error: 'list at least one port' }),
    families: z.array(z.enum(['ipv4', 'ipv6'])).min(1).max(2).default([...DEFAULTS.families]),
    address: z.enum(['public', 'private']).default(DEFAULTS.address).describe('public: over the internet; private: over VPC peering or Transit Gateway'),
    quota: z.int().min(1).max(AWS_LIMITS.maxRulesPerInterface).default(DEFAULTS.quota).describe('Inbound rules per group per family'),
    members: selectorSchema,
  })
  .describe('A named allow-list: a pool of security groups in one region and the instances it admits');

const safetySchema = z.strictObject({
  graceSeconds: seconds(86_400).default(DEFAULTS.safety.graceSeconds).describe('A rule younger than this is kept while its instance is not yet visible'),
  revokeLimit: z
    .strictObject({
      count: z.int().min(0).default(DEFAULTS.safety.revokeLimit.count),
      fraction: z.number().min(0).max(1).default(DEFAULTS.safety.revokeLimit.fraction),
    })
    .prefault({})
    .describe('A pass that would revoke more than count rules, or more than fraction of its managed rules, revokes none of them (rules wider than one address are not counted and go all the same)'),
});

const agentSchema = z.strictObject({
  pollSeconds: z.int().min(1).max(3600).default(DEFAULTS.agent.pollSeconds).describe('agent watch: how often to poll the spot notice, lifecycle state and address'),
  waitSeconds: seconds(3600).default(DEFAULTS.agent.waitSeconds).describe('agent register --wait: how long to wait for the rule to be observable'),
  tagsFrom: z.enum(['imds', 'config']).default(DEFAULTS.agent.tagsFrom).describe('Where the agent reads its instance tags: instance metadata, or agent.tags'),
  tags: z.record(z.string().min(1).max(128), z.union([z.string(), z.number(), z.boolean()])).optional().describe('The instance tags, with tagsFrom: config'),
  retries: z.int().min(0).max(50).default(DEFAULTS.agent.retries).describe('Retries of a throttled or failed AWS call before giving up'),
});

const controllerSchema = z.strictObject({
  regions: z.array(region).min(1).optional().describe('Regions to list instances in; absent: every enabled region'),
  intervalSeconds: z.int().min(10).max(86_400).default(DEFAULTS.controller.intervalSeconds).describe('Time between full passes'),
  jitterSeconds: seconds(3600).default(DEFAULTS.controller.jitterSeconds).describe('Random delay added to each interval, so controllers do not march in step'),
  concurrency: z.int().min(1).max(64).default(DEFAULTS.controller.concurrency).describe('Regions listed in parallel'),
  metricsPort: z.int().min(1).max(65535).optional().describe('Serve Prometheus metrics on this port; absent: no metrics server'),
});

const bucketRate = (d: { burst: number; perSecond: number }, what: string) =>
  z
    .strictObject({
      burst: z.int().min(1).max(100_000).default(d.burst).describe('Tokens the bucket holds when full'),
      perSecond: z.number().positive().max(100_000).default(d.perSecond).describe('Tokens added per second'),
    })
    .prefault({})
    .describe(what);

const pacingSchema = z
  .union([
    z.literal(false),
    z.strictObject({
      securityGroupWrites: bucketRate(DEFAULTS.aws.pacing.securityGroupWrites, 'AuthorizeSecurityGroupIngress and RevokeSecurityGroupIngress, one bucket per region'),
      describes: bucketRate(DEFAULTS.aws.pacing.describes, 'Each Describe action, one bucket per region'),
    }),
  ])
  .prefault({})
  .describe("AWS's token buckets, which sgsync spaces its own calls to fit; false: send calls at once and leave throttling to retries");

const awsSchema = z.strictObject({
  endpoint: z
    .url({ protocol: /^https?$/, error: (iss) => `${show(iss.input)} is not an http(s) URL` })
    .optional()
    .describe('EC2 endpoint URL instead of AWS (for example a local sandbox)'),
  profile: z.string().min(1).optional().describe('Named AWS profile; absent: the SDK default chain'),
  pacing: pacingSchema,
});

/** The schema of sgsync.yaml. */
export const configSchema = z
  .strictObject({
    deployment: z
      .string()
      .regex(/^[a-zA-Z0-9._-]{1,64}$/, { error: 'use 1–64 letters, digits, ".", "_" and "-"' })
      .describe('Name of this deployment; rules it manages carry the tag sgsync:managed-by=<deployment>'),
    targets: z.array(targetSchema).min(1, { error: 'list at least one target' }),
    safety: safetySchema.prefault({}),
    agent: agentSchema.prefault({}),
    controller: controllerSchema.prefault({}),
    aws: awsSchema.prefault({}),
  })
  .superRefine(crossCheck, { when: () => true })
  .describe('sgsync configuration (sgsync.yaml)');

/** A configuration after validation, with every default filled in. */
export type SgsyncConfig = z.output<typeof configSchema>;
/** A configuration as written, before defaults. */
export type SgsyncConfigInput = z.input<typeof configSchema>;
export type TargetConfig = SgsyncConfig['targets'][number];
