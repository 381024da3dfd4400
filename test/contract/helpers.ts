import {
  EC2Client,
  paginateDescribeSecurityGroupRules,
  paginateDescribeSecurityGroups,
  paginateDescribeTags,
  paginateDescribeVpcs,
} from '@aws-sdk/client-ec2';
import { startSandbox, type RunningSandbox, type StartSandboxOptions } from '../../src/sandbox/index.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** A sandbox on a free local port and EC2 clients pointed at it, one per region. */
export interface TestSandbox extends RunningSandbox {
  /** A client for `region` (default us-east-1), made once and reused. */
  ec2(region?: string): EC2Client;
}

/**
 * Starts an in-process sandbox for a suite. Call `close()` in afterAll; it
 * also destroys the clients.
 */
export async function startTestSandbox(options: StartSandboxOptions = {}): Promise<TestSandbox> {
  const running = await startSandbox({ port: 0, host: '127.0.0.1', ...options });
  const clients = new Map<string, EC2Client>();
  return {
    ...running,
    ec2(region = 'us-east-1') {
      let client = clients.get(region);
      if (!client) {
        client = new EC2Client({
          region,
          endpoint: running.url,
          credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' },
          maxAttempts: 1,
        });
        clients.set(region, client);
      }
      return client;
    },
    async close() {
      for (const client of clients.values()) client.destroy();
      await running.close();
    },
  };
}

/** The error code the SDK reports for a rejected call, or 'none' when it succeeded. */
export async function errorCode(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'none';
  } catch (e) {
    return (e as { name?: string }).name ?? String(e);
  }
}

/**
 * Everything a client can see of one region's VPCs, groups, rules and tags,
 * read through the API, so a test can say "nothing changed" by comparing two.
 */
export async function describeEverything(client: EC2Client): Promise<unknown> {
  const all = async <T>(pages: AsyncIterable<T>): Promise<T[]> => {
    const out: T[] = [];
    for await (const page of pages) out.push(page);
    return out;
  };
  const strip = <T extends { $metadata?: unknown; NextToken?: unknown }>(pages: T[]) =>
    pages.map(({ $metadata: _m, NextToken: _t, ...rest }) => rest);
  const config = { client, pageSize: 1000 };
  return {
    vpcs: strip(await all(paginateDescribeVpcs(config, {}))),
    groups: strip(await all(paginateDescribeSecurityGroups(config, {}))),
    rules: strip(await all(paginateDescribeSecurityGroupRules(config, {}))),
    tags: strip(await all(paginateDescribeTags(config, {}))),
  };
}
