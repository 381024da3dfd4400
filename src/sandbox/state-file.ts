import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import * as z from 'zod';
import { JsonInputError, validateInput } from './json-input.js';
import type { Instance, Rule, SecurityGroup, Vpc } from './world.js';
import { World, type WorldOptions } from './world.js';

/**
 * The sandbox's world as a JSON document: what `--state FILE` saves on exit
 * and loads on start, and what `GET /_sandbox/snapshot` returns. Tags are
 * plain objects and times are sandbox-clock milliseconds, so the file can be
 * read and edited by hand.
 */
export const STATE_FORMAT = 'sgsync-sandbox-state';
export const STATE_VERSION = 1;

const tags = z.record(z.string(), z.string());
const id = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`), { error: (iss) => `${JSON.stringify(iss.input)} is not an id such as ${prefix}-0123456789abcdef0` });

const vpcSchema = z
  .object({ id: id('vpc'), cidrBlock: z.string(), ipv6CidrBlock: z.string().optional(), isDefault: z.boolean(), tags, nextHost: z.number().int().min(0) })
  .strict();

const groupSchema = z
  .object({
    id: id('sg'),
    name: z.string().min(1),
    description: z.string(),
    vpcId: z.string(),
    tags,
    ruleIds: z.array(z.string()),
    quota: z.number().int().min(1).max(1000).optional(),
  })
  .strict();

const ruleSchema = z
  .object({
    id: id('sgr'),
    groupId: z.string(),
    isEgress: z.boolean(),
    protocol: z.string().min(1),
    fromPort: z.number().int(),
    toPort: z.number().int(),
    cidrIpv4: z.string().optional(),
    cidrIpv6: z.string().optional(),
    referencedGroupId: z.string().optional(),
    description: z.string().optional(),
    tags,
    createdAt: z.number().optional(),
  })
  .strict();

const instanceSchema = z
  .object({
    id: id('i'),
    reservationId: z.string().optional(),
    imageId: z.string(),
    instanceType: z.string(),
    state: z.enum(['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated']),
    launchTime: z.number(),
    terminatedAt: z.number().optional(),
    stateReason: z.string().optional(),
    vpcId: z.string(),
    subnetId: z.string(),
    availabilityZone: z.string(),
    privateIp: z.string(),
    publicIp: z.string().optional(),
    // A state file saved before instances had several IPv6 addresses holds one, as a string.
    ipv6: z
      .union([z.string(), z.array(z.string())])
      .transform((v) => (typeof v === 'string' ? [v] : v))
      .optional(),
    primaryIpv6: z.boolean().optional(),
    wantsIpv6: z.boolean(),
    noPublicIp: z.boolean().optional(),
    securityGroupIds: z.array(z.string()),
    tags,
    keyName: z.string().optional(),
    spot: z.boolean(),
    spotAction: z.object({ action: z.enum(['terminate', 'stop', 'hibernate']), time: z.string() }).strict().optional(),
    lifecycleState: z.string().optional(),
    metadataTags: z.literal('disabled').optional(),
  })
  .strict();

const regionSchema = z
  .object({
    name: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'a region name such as eu-west-1'),
    quota: z.number().int().min(1).max(1000),
    vpcs: z.array(vpcSchema),
    groups: z.array(groupSchema),
    rules: z.array(ruleSchema),
    instances: z.array(instanceSchema),
  })
  .strict();

export const stateSchema = z
  .object({
    format: z.literal(STATE_FORMAT),
    version: z.literal(STATE_VERSION),
    savedAt: z.string(),
    accountId: z.string().regex(/^\d{12}$/, 'a 12-digit account id'),
    seed: z.number().int().min(0).max(0xffff_ffff),
    /**
     * Where the seeded sequence of ids and addresses stopped, so that a
     * restored sandbox goes on from there: started again from the seed, it
     * handed out again the ids of every rule revoked before the save. Absent
     * in files written before it was kept.
     */
    random: z
      .array(z.number().int().min(0).max(0xffff_ffff))
      .length(4)
      .refine((w) => w.some((x) => x !== 0), 'four words, not all zero')
      .optional(),
    /** How far the sandbox clock ran ahead of real time. */
    clockOffsetMs: z.number().min(0),
    /** The enabled regions; every other known region is `not-opted-in`. */
    regions: z.array(regionSchema).min(1),
  })
  .strict();

export type SandboxState = z.infer<typeof stateSchema>;

// The file must hold every field of the world's entities: adding a field to
// world.ts without adding it here fails the type check.
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
const fieldsCovered: [
  SameKeys<Vpc, z.infer<typeof vpcSchema>>,
  SameKeys<SecurityGroup, z.infer<typeof groupSchema>>,
  SameKeys<Rule, z.infer<typeof ruleSchema>>,
  SameKeys<Instance, z.infer<typeof instanceSchema>>,
] = [true, true, true, true];
void fieldsCovered;

const obj = (m: ReadonlyMap<string, string>) => Object.fromEntries(m);
const map = (o: Record<string, string>) => new Map(Object.entries(o));

/**
 * The world as a state document. `realNow` is the clock the sandbox clock runs
 * on, so the offset the control API added can be saved.
 */
export function serializeWorld(world: World, realNow: () => number = Date.now): SandboxState {
  const regions = [...world.regions.values()].filter((r) => r.optInStatus !== 'not-opted-in');
  return {
    format: STATE_FORMAT,
    version: STATE_VERSION,
    savedAt: new Date(world.clock.now()).toISOString(),
    accountId: world.accountId,
    seed: world.seed,
    random: world.rng.state(),
    clockOffsetMs: Math.max(0, world.clock.now() - realNow()),
    regions: regions.map((r) => ({
      name: r.name,
      quota: r.quota,
      vpcs: [...r.vpcs.values()].map((v) => ({ ...v, tags: obj(v.tags) })),
      groups: [...r.groups.values()].map((g) => ({ ...g, tags: obj(g.tags), ruleIds: [...g.ruleIds] })),
      rules: [...r.rules.values()].map((x) => ({ ...x, tags: obj(x.tags) })),
      instances: [...r.instances.values()].map((i) => ({ ...i, tags: obj(i.tags), securityGroupIds: [...i.securityGroupIds], ...(i.ipv6 ? { ipv6: [...i.ipv6] } : {}) })),
    })),
  };
}

/** Cross-references zod cannot see: ids unique, rules in their groups, groups in their VPCs. */
function checkReferences(state: SandboxState): string | undefined {
  const seen = new Set<string>();
  for (const [ri, r] of state.regions.entries()) {
    const at = `regions[${ri}] (${r.name})`;
    for (const x of [...r.vpcs, ...r.groups, ...r.rules, ...r.instances]) {
      if (seen.has(x.id)) return `${at}: the id ${x.id} appears more than once`;
      seen.add(x.id);
    }
    const vpcs = new Set(r.vpcs.map((v) => v.id));
    const groups = new Map(r.groups.map((g) => [g.id, g]));
    for (const [gi, g] of r.groups.entries()) {
      if (!vpcs.has(g.vpcId)) return `${at}.groups[${gi}].vpcId: ${g.vpcId} is not a VPC of ${r.name}`;
    }
    const rules = new Set(r.rules.map((x) => x.id));
    for (const [gi, g] of r.groups.entries()) {
      for (const ruleId of g.ruleIds) if (!rules.has(ruleId)) return `${at}.groups[${gi}].ruleIds: ${ruleId} is not a rule of ${r.name}`;
    }
    for (const [xi, x] of r.rules.entries()) {
      if (!groups.get(x.groupId)?.ruleIds.includes(x.id)) return `${at}.rules[${xi}]: ${x.id} is not listed in the ruleIds of its group ${x.groupId}`;
    }
    for (const [ii, i] of r.instances.entries()) {
      if (!vpcs.has(i.vpcId)) return `${at}.instances[${ii}].vpcId: ${i.vpcId} is not a VPC of ${r.name}`;
    }
  }
  return undefined;
}

/** Validates a parsed state document; throws JsonInputError naming `what` and the problem. */
export function validateState(raw: unknown, what: string): SandboxState {
  const head = raw as { format?: unknown; version?: unknown } | null;
  if (typeof head !== 'object' || head === null || head.format !== STATE_FORMAT) {
    throw new JsonInputError(`${what} is not an sgsync sandbox state file (it needs "format": "${STATE_FORMAT}")`);
  }
  if (typeof head.version === 'number' && head.version > STATE_VERSION) {
    throw new JsonInputError(`${what} has format version ${head.version}; this sgsync reads version ${STATE_VERSION}`);
  }
  const state = validateInput(raw, stateSchema, what);
  const problem = checkReferences(state);
  if (problem) throw new JsonInputError(`${what} is invalid: ${problem}`);
  return state;
}

/** Builds a world from a validated state document; ids in it are never handed out again. */
export function restoreWorld(state: SandboxState, options: Omit<WorldOptions, 'regions' | 'seed' | 'accountId'> = {}): World {
  const world = new World({ ...options, regions: state.regions.map((r) => r.name), seed: state.seed, accountId: state.accountId });
  if (state.clockOffsetMs > 0) world.clock.advance(state.clockOffsetMs);
  if (state.random) world.rng.resume(state.random);
  for (const saved of state.regions) {
    const region = world.regions.get(saved.name)!;
    region.quota = saved.quota;
    region.vpcs.clear();
    region.groups.clear();
    region.rules.clear();
    region.instances.clear();
    for (const v of saved.vpcs) region.vpcs.set(v.id, { ...v, tags: map(v.tags) });
    for (const g of saved.groups) region.groups.set(g.id, { ...g, tags: map(g.tags), ruleIds: new Set(g.ruleIds) });
    for (const x of saved.rules) region.rules.set(x.id, { ...x, tags: map(x.tags) });
    for (const i of saved.instances) {
      region.instances.set(i.id, { ...i, tags: map(i.tags) });
      if (i.publicIp) world.publicIps.add(i.publicIp);
      for (const a of i.ipv6 ?? []) world.publicIps.add(a);
    }
    for (const x of [...saved.vpcs, ...saved.groups, ...saved.rules, ...saved.instances]) world.claimId(x.id);
    for (const i of saved.instances) world.claimId(i.subnetId);
  }
  return world;
}

/**
 * Loads `--state FILE`. Returns undefined when the file does not exist yet
 * (the sandbox starts fresh and creates it on exit); throws JsonInputError
 * naming the file when it cannot be read or is not a valid state file.
 */
export function loadStateFile(path: string, options: Omit<WorldOptions, 'regions' | 'seed' | 'accountId'> = {}): World | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new JsonInputError(`cannot read state file ${path}: ${code ?? String(e)}`, { cause: e });
  }
  const what = `state file ${path}`;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new JsonInputError(`${what} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return restoreWorld(validateState(raw, what), options);
}

/**
 * Writes the world to `path` atomically: a temporary file in the same
 * directory, flushed, then renamed over the old one, so a crash mid-write
 * never leaves half a file.
 */
export function saveStateFile(path: string, world: World, realNow?: () => number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const text = `${JSON.stringify(serializeWorld(world, realNow), null, 1)}\n`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}
