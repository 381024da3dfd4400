/**
 * How much of a DescribeInstances page sgsync's listing protocol
 * (src/aws/listing-protocol.ts) saves the SDK from reading. A page of 1,000
 * instances, read by an SDK client with the SDK's own protocol and by one
 * with sgsync's, in turn (interleaved, after a warm-up), median of each. The
 * page comes twice: as the sandbox answers it, and as EC2 answers it, with
 * the members the sandbox leaves out added to each instance (block devices,
 * CPU, metadata and DNS options, ...) and indented as EC2 indents them.
 *
 * It measures what the CLI and Lambda bundles run: this file is bundled
 * with the bundles' esbuild plugins (their XML parser among them) and the
 * bundle is run in a child process.
 *
 *   npx tsx bench/describe-instances-read.ts [--runs N]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { BuildOptions } from 'esbuild';
import { ListingProtocol } from '../src/aws/listing-protocol.js';
import { instancesPage } from './support/instances-page.js';
import { median, runsOption } from './support/runs.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

if (process.env.SGSYNC_BENCH_BUNDLED !== '1') {
  // Bundled with the CLI's options, into node_modules/.cache so that the bundle resolves esbuild's import as this file does.
  const root = fileURLToPath(new URL('..', import.meta.url));
  const dir = join(root, 'node_modules', '.cache', 'sgsync-bench');
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, `describe-instances-read-${process.pid}.mjs`);
  const { build } = await import('esbuild');
  // @ts-expect-error -- a plain ES module build script, without type declarations
  const { sdkBundleOptions } = (await import('../scripts/aws-sdk-plugins.mjs')) as { sdkBundleOptions: BuildOptions };
  await build({ ...sdkBundleOptions, entryPoints: [fileURLToPath(import.meta.url)], outfile, external: ['esbuild'], logLevel: 'warning' });
  const child = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, SGSYNC_BENCH_BUNDLED: '1' } });
  rmSync(outfile, { force: true });
  process.exit(child.status ?? 1);
}

const runs = runsOption(15);

const sandboxPage = await instancesPage();

/** Members of an instance EC2 answers with that the sandbox leaves out. */
const EC2_EXTRA =
  '<reason/><keyName>prod-key</keyName><amiLaunchIndex>0</amiLaunchIndex><productCodes/><monitoring><state>disabled</state></monitoring>' +
  '<sourceDestCheck>true</sourceDestCheck><blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs><volumeId>vol-0a1b2c3d4e5f60718</volumeId>' +
  '<status>attached</status><attachTime>2026-01-01T00:00:01.000Z</attachTime><deleteOnTermination>true</deleteOnTermination></ebs></item></blockDeviceMapping>' +
  '<virtualizationType>hvm</virtualizationType><clientToken>deploy-20260101</clientToken><hypervisor>xen</hypervisor>' +
  '<iamInstanceProfile><arn>arn:aws:iam::123456789012:instance-profile/app</arn><id>AIPAEXAMPLEEXAMPLE123</id></iamInstanceProfile>' +
  '<ebsOptimized>false</ebsOptimized><enaSupport>true</enaSupport><cpuOptions><coreCount>1</coreCount><threadsPerCore>2</threadsPerCore></cpuOptions>' +
  '<capacityReservationSpecification><capacityReservationPreference>open</capacityReservationPreference></capacityReservationSpecification>' +
  '<hibernationOptions><configured>false</configured></hibernationOptions><enclaveOptions><enabled>false</enabled></enclaveOptions>' +
  '<metadataOptions><state>applied</state><httpTokens>required</httpTokens><httpPutResponseHopLimit>2</httpPutResponseHopLimit><httpEndpoint>enabled</httpEndpoint>' +
  '<httpProtocolIpv6>disabled</httpProtocolIpv6><instanceMetadataTags>disabled</instanceMetadataTags></metadataOptions>' +
  '<maintenanceOptions><autoRecovery>default</autoRecovery></maintenanceOptions><platformDetails>Linux/UNIX</platformDetails><usageOperation>RunInstances</usageOperation>' +
  '<usageOperationUpdateTime>2026-01-01T00:00:00.000Z</usageOperationUpdateTime><privateDnsNameOptions><hostnameType>ip-name</hostnameType>' +
  '<enableResourceNameDnsARecord>false</enableResourceNameDnsARecord><enableResourceNameDnsAAAARecord>false</enableResourceNameDnsAAAARecord></privateDnsNameOptions>' +
  '<currentInstanceBootMode>legacy-bios</currentInstanceBootMode><bootMode>uefi-preferred</bootMode>';

/** The sandbox's page with EC2's other members in each instance, one element per line, indented by depth. */
function asEc2Answers(page: string): string {
  let depth = 0;
  return page.replaceAll('</networkInterfaceSet>', `</networkInterfaceSet>${EC2_EXTRA}`).replace(/<(\/?)([^>]*?)(\/?)>/g, (tag, close: string, name: string, empty: string) => {
    if (name.startsWith('?')) return tag;
    if (close) {
      depth--;
      return tag;
    }
    const line = `\n${'    '.repeat(depth)}${tag}`;
    if (!empty) depth++;
    return line;
  });
}

const pages = { sandbox: sandboxPage, ec2: asEc2Answers(sandboxPage) };
let body = '';
const client = (protocol?: typeof ListingProtocol) =>
  new EC2Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' },
    ...(protocol ? { protocol } : {}),
    requestHandler: { handle: () => Promise.resolve({ response: { statusCode: 200, headers: {}, body: Readable.from([Buffer.from(body)]) } }) },
  });
const readers = { sdk: client(), sgsync: client(ListingProtocol) };

for (const [kind, page] of Object.entries(pages)) {
  body = page;
  const times: Record<keyof typeof readers, number[]> = { sdk: [], sgsync: [] };
  const read = async (name: keyof typeof readers) => {
    const start = performance.now();
    const out = await readers[name].send(new DescribeInstancesCommand({}));
    if (out.Reservations?.[0]?.Instances?.length !== 1000) throw new Error(`${name} read no page of 1,000 instances`);
    return performance.now() - start;
  };
  for (let i = 0; i < 3; i++) for (const name of Object.keys(readers) as (keyof typeof readers)[]) await read(name);
  for (let i = 0; i < runs; i++) for (const name of Object.keys(readers) as (keyof typeof readers)[]) times[name].push(await read(name));
  const sdk = median(times.sdk);
  const ours = median(times.sgsync);
  console.log(`page of 1,000 instances ${kind === 'ec2' ? "as EC2 answers" : 'as the sandbox answers'} (${(page.length / 1024 / 1024).toFixed(2)} MB), median of ${runs} runs each:`);
  console.log(`  the SDK's protocol: ${sdk.toFixed(1)} ms; sgsync's listing protocol: ${ours.toFixed(1)} ms (${((ours / sdk) * 100).toFixed(0)}%)`);
}
for (const c of Object.values(readers)) c.destroy();
