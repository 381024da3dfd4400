import { InvalidArgumentError, type Command } from 'commander';
import { createEc2Adapter, type Ec2Adapter } from '../aws/ec2-adapter.js';
import { loadConfig, type LoadedConfig } from '../config/index.js';

/** Options every command that talks to AWS accepts. */
export interface AwsCliOptions {
  config?: string;
  endpoint?: string;
  profile?: string;
}

export interface AwsContext {
  loaded: LoadedConfig;
  ec2: Ec2Adapter;
}

/** `--endpoint`'s value, checked as `aws.endpoint` is: an http(s) URL. */
export function endpointUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') throw new InvalidArgumentError(`"${value}" is not an http(s) URL, such as http://127.0.0.1:4566.`);
  return value;
}

/** `-c/--config`, `--endpoint` and `--profile`: what every command that talks to AWS takes. */
export function withAwsConnection(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'configuration file (default: $SGSYNC_CONFIG, then ./sgsync.yaml)')
    .option('--endpoint <url>', 'EC2 endpoint for every region, e.g. a sandbox (default: aws.endpoint, then the SDK chain)', endpointUrl)
    .option('--profile <name>', 'AWS profile (default: aws.profile, then the SDK chain)');
}

/**
 * Loads the configuration and builds the EC2 adapter: `--endpoint` wins over
 * `aws.endpoint` in the file; without either the SDK's own chain applies
 * (AWS_ENDPOINT_URL, profiles, instance role).
 */
export async function awsContext(options: AwsCliOptions, maxAttempts?: (loaded: LoadedConfig) => number): Promise<AwsContext> {
  const loaded = await loadConfig({ configPath: options.config, env: process.env });
  const ec2 = createEc2Adapter({ config: loaded, endpoint: options.endpoint, profile: options.profile, maxAttempts: maxAttempts?.(loaded) });
  return { loaded, ec2 };
}

/** `{ action: count }` of the calls made, for --json output and figures. */
export function callCounts(ec2: Ec2Adapter): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of ec2.clients.stats.entries()) out[e.action] = (out[e.action] ?? 0) + e.count;
  return out;
}
