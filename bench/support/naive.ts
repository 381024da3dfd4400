/**
 * The naive approach sgsync is measured against: every instance makes its
 * own call into the primary region — one AuthorizeSecurityGroupIngress for
 * its address when it boots, one RevokeSecurityGroupIngress for its rule
 * when it goes — as boot scripts, shutdown hooks and AWS's samples do. Each
 * call gets its own SDK client (instances do not share a client-side rate
 * limiter or retry quota), with the SDK's standard retry mode and generous
 * attempts so that throttling delays the work rather than dropping it; all
 * calls start at once, bounded only by a pool of 200 connections.
 */
import { AuthorizeSecurityGroupIngressCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import pLimit from 'p-limit';
import { PRIMARY } from './fleet.js';

export type NaiveCall = { kind: 'authorize'; groupId: string; cidr: string } | { kind: 'revoke'; groupId: string; ruleId: string };

export interface NaiveRun {
  wallS: number;
  /** CPU of this process while the calls ran: the clients' side only. */
  cpuS: number;
  /** Calls that still failed after every retry, by error name. */
  failed: Record<string, number>;
}

/** Makes every call of `work`, each with a fresh client, and times the whole. */
export async function runNaive(url: string, work: readonly NaiveCall[], maxAttempts = 20): Promise<NaiveRun> {
  const limit = pLimit(200);
  const failed: Record<string, number> = {};
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    work.map((w) =>
      limit(async () => {
        const ec2 = new EC2Client({ region: PRIMARY, endpoint: url, maxAttempts, retryMode: 'standard', credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } });
        try {
          if (w.kind === 'authorize') {
            await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: w.groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: w.cidr }] }] }));
          } else {
            await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: w.groupId, SecurityGroupRuleIds: [w.ruleId] }));
          }
        } catch (e) {
          const name = (e as { name?: string }).name ?? 'unknown';
          failed[name] = (failed[name] ?? 0) + 1;
        } finally {
          ec2.destroy();
        }
      }),
    ),
  );
  const wallS = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { wallS, cpuS: (used.user + used.system) / 1e6, failed };
}
