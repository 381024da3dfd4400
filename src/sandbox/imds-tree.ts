import { sign } from 'node:crypto';
import { architectureOf } from './actions/instance-xml.js';
import { reservationIdOf } from './actions/instances.js';
import { macAddressOf, privateDnsName, publicDnsName } from './addresses.js';
import { base64Lines, signPkcs7, type SigningIdentity } from './identity.js';
import type { Instance, Region } from './world.js';

/**
 * What an instance's metadata service shows, as a tree: a leaf is a value
 * (computed when asked, so a signature is only made for the one request that
 * wants it), a branch lists its children, and an absent member answers 404
 * just as AWS's `public-ipv4` does for an instance without one.
 */
export type ImdsNode = string | (() => string) | { [name: string]: ImdsNode | undefined };

const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The instance identity document, in AWS's layout (`"key" : value`, two-space
 * indent), so byte-level comparisons and signature checks behave as on EC2.
 */
export function identityDocument(instance: Instance, region: Region, accountId: string): string {
  const fields: [string, string | null][] = [
    ['accountId', accountId],
    ['architecture', architectureOf(instance.instanceType)],
    ['availabilityZone', instance.availabilityZone],
    ['billingProducts', null],
    ['devpayProductCodes', null],
    ['marketplaceProductCodes', null],
    ['imageId', instance.imageId],
    ['instanceId', instance.id],
    ['instanceType', instance.instanceType],
    ['kernelId', null],
    ['pendingTime', isoSeconds(instance.launchTime)],
    ['privateIp', instance.privateIp],
    ['ramdiskId', null],
    ['region', region.name],
    ['version', '2017-09-30'],
  ];
  const lines = fields.map(([k, v]) => `  ${JSON.stringify(k)} : ${v === null ? 'null' : JSON.stringify(v)}`);
  return `{\n${lines.join(',\n')}\n}`;
}

/**
 * Tag keys IMDS can show: letters, digits and `+ - = . , _ : @`, but not `.`,
 * `..` or `_index` alone. (AWS refuses to turn metadata tags on for an
 * instance with any other key; the sandbox leaves such keys out instead.)
 */
const IMDS_TAG_KEY = /^(?!\.\.?$|_index$)[A-Za-z0-9+\-=.,_:@]+$/;

/** The `latest/` tree of one instance. */
export function imdsTree(instance: Instance, region: Region, accountId: string, identity: () => SigningIdentity): ImdsNode {
  const mac = macAddressOf(instance.id);
  const localHostname = privateDnsName(instance.privateIp, region.name);
  const publicHostname = instance.publicIp ? publicDnsName(instance.publicIp, region.name) : undefined;
  const document = identityDocument(instance, region, accountId);
  const tags = Object.fromEntries([...instance.tags].filter(([key]) => IMDS_TAG_KEY.test(key)));
  const groupNames = instance.securityGroupIds.map((id) => region.groups.get(id)?.name ?? id).join('\n');
  const vpc = region.vpcs.get(instance.vpcId);
  return {
    'meta-data': {
      'ami-id': instance.imageId,
      'ami-launch-index': '0',
      hostname: localHostname,
      'instance-id': instance.id,
      'instance-life-cycle': instance.spot ? 'spot' : 'on-demand',
      'instance-type': instance.instanceType,
      'local-hostname': localHostname,
      'local-ipv4': instance.privateIp,
      mac,
      'public-hostname': publicHostname,
      'public-ipv4': instance.publicIp,
      // The first address assigned to the primary interface (AWS: "the first IPv6 address assigned"), 404 when none.
      ipv6: instance.ipv6?.[0],
      'reservation-id': reservationIdOf(instance),
      'security-groups': groupNames,
      placement: {
        'availability-zone': instance.availabilityZone,
        region: region.name,
      },
      network: {
        interfaces: {
          macs: {
            [mac]: {
              'device-number': '0',
              'interface-id': `eni-${instance.id.slice(2)}`,
              'local-ipv4s': instance.privateIp,
              'public-ipv4s': instance.publicIp,
              ipv6s: instance.ipv6?.length ? instance.ipv6.join('\n') : undefined,
              'security-group-ids': instance.securityGroupIds.join('\n'),
              'subnet-id': instance.subnetId,
              'vpc-id': instance.vpcId,
              'vpc-ipv4-cidr-block': vpc?.cidrBlock,
            },
          },
        },
      },
      tags: instance.metadataTags === 'disabled' ? undefined : { instance: tags },
      spot: instance.spotAction
        ? { 'instance-action': JSON.stringify(instance.spotAction), 'termination-time': instance.spotAction.time }
        : undefined,
      autoscaling: instance.lifecycleState ? { 'target-lifecycle-state': instance.lifecycleState } : undefined,
    },
    dynamic: {
      'instance-identity': {
        document,
        rsa2048: () => base64Lines(signPkcs7(identity(), Buffer.from(document), new Date(instance.launchTime))),
        signature: () => sign('sha256', Buffer.from(document), identity().privateKey).toString('base64'),
      },
    },
  };
}

/**
 * The node at `segments` (empty segments from doubled or trailing slashes are
 * ignored), or undefined. Branches answer with their children's names, one
 * per line, sub-branches marked with a trailing `/`, as IMDS lists them.
 */
export function readNode(root: ImdsNode, segments: readonly string[]): string | undefined {
  let node: ImdsNode | undefined = root;
  for (const segment of segments) {
    if (segment === '') continue;
    if (node === undefined || typeof node !== 'object') return undefined;
    node = Object.hasOwn(node, segment) ? node[segment] : undefined;
  }
  if (node === undefined) return undefined;
  if (typeof node === 'string') return node;
  if (typeof node === 'function') return node();
  return Object.entries(node)
    .filter(([, child]) => child !== undefined)
    .map(([name, child]) => (typeof child === 'object' ? `${name}/` : name))
    .join('\n');
}
