import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { JsonInputError, parseJsonInput } from './json-input.js';
import { Random } from './random.js';

/**
 * Fault injection: rules that make chosen actions in chosen regions slow,
 * failing or cut off, so clients can be tested against a bad day at AWS.
 * Every (region, action) pair draws from its own seeded random stream: the
 * n-th call of an action in a region gets the same fate for the same seed and
 * rules, however calls to other actions interleave with it.
 */
export interface FaultDecision {
  latencyMs?: number;
  drop?: boolean;
  error?: { code: string; message: string; status: number };
}

const rate = z.number().min(0).max(1);

export const faultRuleSchema = z
  .object({
    /** Action name; `*` matches any run of characters (`Describe*`, `*`). */
    action: z.string().min(1).max(128).default('*'),
    /** Region name; `*` as in action (`eu-*`). */
    region: z.string().min(1).max(64).default('*'),
    /** Share of calls answered 500 InternalError. */
    internalErrorRate: rate.default(0),
    /** Share of calls answered 503 Unavailable. */
    unavailableRate: rate.default(0),
    /** A specific error, e.g. `{"code":"UnauthorizedOperation"}` for a missing IAM permission. */
    error: z
      .object({
        code: z.string().regex(/^[A-Za-z][A-Za-z0-9.]{0,127}$/, 'an error code such as UnauthorizedOperation'),
        status: z.number().int().min(400).max(599).optional(),
        message: z.string().max(1024).optional(),
        rate: rate.default(1),
      })
      .strict()
      .optional(),
    /** Added before the answer, in milliseconds. */
    latencyMs: z.number().int().min(0).max(60_000).default(0),
    /** Up to this much more, uniformly drawn per call. */
    jitterMs: z.number().int().min(0).max(60_000).default(0),
    /** Share of calls whose connection is closed without an answer. */
    dropRate: rate.default(0),
  })
  .strict();

/** The instance metadata service on a bad day: unreachable, slow, or forgetting its tokens. */
export const imdsFaultsSchema = z
  .object({
    /** Every IMDS connection is closed without an answer, as when nothing listens at 169.254.169.254. */
    down: z.boolean().default(false),
    /** Added before each IMDS answer, in milliseconds. */
    latencyMs: z.number().int().min(0).max(60_000).default(0),
    /** Up to this much more, uniformly drawn per request. */
    jitterMs: z.number().int().min(0).max(60_000).default(0),
    /** Tokens issued before these faults were set are answered 401, as after the service restarts. */
    rejectTokens: z.boolean().default(false),
  })
  .strict();

/** Reads that lag writes, as EC2's eventually consistent API does. */
export const readLagSchema = z
  .object({
    /** DescribeInstances does not show an instance until it has been launched this many seconds (sandbox clock). */
    instancesSeconds: z.number().min(0).max(86_400).default(0),
    /** DescribeSecurityGroupRules does not show a rule until it has existed this many seconds (sandbox clock). */
    rulesSeconds: z.number().min(0).max(86_400).default(0),
  })
  .strict();

export const faultsConfigSchema = z
  .object({
    /** Seed of the random streams; defaults to the sandbox's `--seed`. */
    seed: z.number().int().min(0).max(0xffff_ffff).optional(),
    rules: z.array(faultRuleSchema).max(1000),
    imds: imdsFaultsSchema.optional(),
    readLag: readLagSchema.optional(),
  })
  .strict();

export type FaultRule = z.infer<typeof faultRuleSchema>;
export type FaultsConfig = z.infer<typeof faultsConfigSchema>;
export type ImdsFaults = z.infer<typeof imdsFaultsSchema>;

/** What happens to one IMDS request. */
export interface ImdsFaultDecision {
  drop: boolean;
  latencyMs: number;
}

/** The status and message AWS uses for codes a rule is likely to name. */
const KNOWN_ERRORS: Record<string, { status: number; message: string }> = {
  UnauthorizedOperation: { status: 403, message: 'You are not authorized to perform this operation.' },
  AuthFailure: { status: 401, message: 'AWS was not able to validate the provided access credentials.' },
  RequestLimitExceeded: { status: 503, message: 'Request limit exceeded.' },
  InternalError: { status: 500, message: 'An internal error has occurred.' },
  Unavailable: { status: 503, message: 'The service is unavailable. Please try again shortly.' },
  ServiceUnavailable: { status: 503, message: 'The request has failed due to a temporary failure of the server.' },
};

/** Matches `*` wildcards; everything else literally. */
function globMatch(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  if (!pattern.includes('*')) return pattern === value;
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(value);
}

/** Reads and validates a `--faults` file. Throws with the file name and the problem. */
export function loadFaultsFile(path: string): FaultsConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new JsonInputError(`cannot read faults file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  return parseJsonInput(text, faultsConfigSchema, `faults file ${path}`);
}

export class Faults {
  private config: FaultsConfig = { rules: [] };
  private streams = new Map<string, Random>();
  private imdsRng?: Random;
  /**
   * Bumped each time IMDS faults with `rejectTokens` are set; IMDS tokens
   * carry the epoch they were issued in and are refused once it moved on.
   */
  tokenEpoch = 0;

  constructor(readonly seed: number) {}

  /** The rules in force, with defaults filled in. */
  get current(): FaultsConfig {
    return structuredClone(this.config);
  }

  /**
   * Replaces the rules and restarts every random stream, so the same rules
   * followed by the same calls give the same faults.
   */
  set(config: FaultsConfig): void {
    this.config = structuredClone(config);
    this.streams.clear();
    this.imdsRng = undefined;
    if (config.imds?.rejectTokens) this.tokenEpoch++;
  }

  /** Replaces the IMDS faults only, leaving the EC2 rules and their random streams as they are. */
  setImds(imds: ImdsFaults): void {
    this.config.imds = structuredClone(imds);
    this.imdsRng = undefined;
    if (imds.rejectTokens) this.tokenEpoch++;
  }

  /** The fate of one IMDS request: dropped when IMDS is down, delayed by its latency. */
  decideImds(): ImdsFaultDecision {
    const imds = this.config.imds;
    if (!imds) return { drop: false, latencyMs: 0 };
    this.imdsRng ??= new Random(this.config.seed ?? this.seed).fork('imds');
    const jitter = Math.floor(this.imdsRng.next() * (imds.jitterMs + 1));
    return { drop: imds.down, latencyMs: imds.latencyMs + jitter };
  }

  /** How long a new instance stays out of DescribeInstances, in milliseconds. */
  get instanceReadLagMs(): number {
    return (this.config.readLag?.instancesSeconds ?? 0) * 1000;
  }

  /** How long a new rule stays out of DescribeSecurityGroupRules, in milliseconds. */
  get ruleReadLagMs(): number {
    return (this.config.readLag?.rulesSeconds ?? 0) * 1000;
  }

  private stream(region: string, action: string): Random {
    const key = `${region}/${action}`;
    let rng = this.streams.get(key);
    if (!rng) {
      rng = new Random(this.config.seed ?? this.seed).fork(key);
      this.streams.set(key, rng);
    }
    return rng;
  }

  /** The fate of one call: undefined for a normal answer. */
  decide(action: string, region: string): FaultDecision | undefined {
    if (this.config.rules.length === 0) return undefined;
    const decision: FaultDecision = {};
    let latency = 0;
    for (const rule of this.config.rules) {
      if (!globMatch(rule.action, action) || !globMatch(rule.region, region)) continue;
      const rng = this.stream(region, action);
      // Always four draws per matching rule, so one rule's outcome never shifts another's.
      const [dropRoll, serverRoll, errorRoll, jitterRoll] = [rng.next(), rng.next(), rng.next(), rng.next()];
      latency += rule.latencyMs + Math.floor(jitterRoll * (rule.jitterMs + 1));
      if (decision.drop || decision.error) continue;
      if (dropRoll < rule.dropRate) {
        decision.drop = true;
      } else if (serverRoll < rule.internalErrorRate) {
        decision.error = { code: 'InternalError', ...KNOWN_ERRORS.InternalError! };
      } else if (serverRoll < rule.internalErrorRate + rule.unavailableRate) {
        decision.error = { code: 'Unavailable', ...KNOWN_ERRORS.Unavailable! };
      } else if (rule.error && errorRoll < rule.error.rate) {
        const known = KNOWN_ERRORS[rule.error.code];
        decision.error = {
          code: rule.error.code,
          status: rule.error.status ?? known?.status ?? 400,
          message: rule.error.message ?? known?.message ?? `The sandbox's fault rules answered ${rule.error.code}.`,
        };
      }
    }
    if (latency > 0) decision.latencyMs = latency;
    return decision.drop || decision.error || decision.latencyMs ? decision : undefined;
  }
}
