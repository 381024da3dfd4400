/**
 * An agent storm: many instances run `sgsync agent register` at the same
 * moment. Each agent here is the command's own code path — `register()`
 * with an EC2 adapter of its own (its own SDK clients, adaptive retry and
 * `agent.retries`, as the CLI builds it) and an IMDSv2 session of its own
 * against its instance's metadata service — run concurrently in this one
 * process. Separate processes would add Node and SDK start-up each, which
 * on a small machine measures the machine rather than AWS's buckets; one real `agent register` process is measured on its
 * own beside the storm.
 */
import { register } from '../../src/agent/register.js';
import { Ec2Adapter } from '../../src/aws/ec2-adapter.js';
import { Imds } from '../../src/aws/imds.js';
import { loadConfig } from '../../src/config/index.js';
import { isSgsyncError } from '../../src/core/errors.js';

export interface StormRun {
  agents: number;
  wallS: number;
  /** CPU of this process while the agents ran (all of them together). */
  cpuS: number;
  succeeded: number;
  /** Agents that failed, by sgsync error code. */
  failed: Record<string, number>;
  /** One failure message per code, for the report. */
  examples: Record<string, string>;
  /** Rules the agents said they added. */
  added: number;
  /** Observe → plan → apply rounds, summed over agents (1 each when nobody raced). */
  rounds: number;
  /** AWS errors the agents' calls met, throttling included, by action and error name (every attempt). */
  awsErrors: Record<string, number>;
  /** The first message of each kind of AWS error, for the report. */
  awsErrorMessages: Record<string, string>;
}

/** Registers every instance of `ids` at once, each as its own agent, and times the whole. */
export async function runStorm(url: string, configPath: string, ids: readonly string[]): Promise<StormRun> {
  const loaded = await loadConfig({ configPath, env: {} });
  const failed: Record<string, number> = {};
  const examples: Record<string, string> = {};
  let succeeded = 0;
  let added = 0;
  let rounds = 0;
  const awsErrors: Record<string, number> = {};
  const awsErrorMessages: Record<string, string> = {};
  const regions = [...new Set(loaded.targets.map((t) => t.region))];
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    ids.map(async (id) => {
      const ec2 = new Ec2Adapter({ endpoint: url, maxAttempts: loaded.config.agent.retries + 1 });
      const instance = new Imds({ endpoint: `${url}/imds/${id}/` });
      for (const region of regions) {
        ec2.clients.get(region).middlewareStack.add(
          (next, context) => async (args) => {
            try {
              return await next(args);
            } catch (e) {
              const key = `${(context.commandName ?? '').replace(/Command$/, '')} ${(e as { name?: string }).name ?? 'unknown'}`;
              awsErrors[key] = (awsErrors[key] ?? 0) + 1;
              awsErrorMessages[key] ??= e instanceof Error ? e.message : String(e);
              throw e;
            }
          },
          // Inside the retry loop, as the adapter's own call counter, so that every attempt is seen.
          { step: 'finalizeRequest', name: 'benchAwsErrors', priority: 'low' },
        );
      }
      try {
        const result = await register({ config: loaded, ec2, instance, now: Date.now });
        succeeded++;
        added += result.changes.filter((c) => c.action === 'authorize').length;
        rounds += result.rounds;
      } catch (e) {
        const code = isSgsyncError(e) ? e.code : 'INTERNAL';
        failed[code] = (failed[code] ?? 0) + 1;
        examples[code] ??= e instanceof Error ? e.message : String(e);
      } finally {
        ec2.clients.destroy();
        instance.close();
      }
    }),
  );
  const wallS = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { agents: ids.length, wallS, cpuS: (used.user + used.system) / 1e6, succeeded, failed, examples, added, rounds, awsErrors, awsErrorMessages };
}
