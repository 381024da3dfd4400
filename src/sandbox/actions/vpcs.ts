import { canonicalIpv4Cidr, prefixLength } from '../cidr.js';
import { Ec2Error, errors } from '../errors.js';
import { compileFilters } from '../filters.js';
import { fingerprintOf, readPageRequest } from '../pagination.js';
import type { Vpc, World } from '../world.js';
import { tagSet, type XmlObject } from '../xml.js';
import type { ActionHandler } from './context.js';
import { findVpc } from './lookup.js';
import { filtered, pageOf } from './page-iterable.js';
import { createGroup } from './security-groups.js';
import { readTagSpecifications } from './tags.js';

/**
 * An Amazon-provided IPv6 block: a /56 from Amazon's 2600:1f00::/24 pool,
 * drawn from the seeded generator so a world is reproducible.
 */
function amazonIpv6Block(world: World): string {
  const hex = world.rng.hex(8);
  return `2600:1f${hex.slice(0, 2)}:${hex.slice(2, 6)}:${hex.slice(6, 8)}00::/56`;
}

/** Association ids are stable per VPC, so describing twice gives the same answer. */
function associationId(vpc: Vpc, family: 'v4' | 'v6'): string {
  return `vpc-cidr-assoc-${family === 'v4' ? '0' : '1'}${vpc.id.slice(5, 21)}`;
}

function vpcXml(world: World, regionName: string, vpc: Vpc, state: 'pending' | 'available'): XmlObject {
  return {
    vpcId: vpc.id,
    ownerId: world.accountId,
    state,
    cidrBlock: vpc.cidrBlock,
    cidrBlockAssociationSet: [{ associationId: associationId(vpc, 'v4'), cidrBlock: vpc.cidrBlock, cidrBlockState: { state: 'associated' } }],
    ipv6CidrBlockAssociationSet:
      vpc.ipv6CidrBlock === undefined
        ? undefined
        : [
            {
              associationId: associationId(vpc, 'v6'),
              ipv6CidrBlock: vpc.ipv6CidrBlock,
              ipv6CidrBlockState: { state: 'associated' },
              networkBorderGroup: regionName,
              ipv6Pool: 'Amazon',
            },
          ],
    dhcpOptionsId: 'default',
    instanceTenancy: 'default',
    isDefault: vpc.isDefault,
    tagSet: tagSet(vpc.tags),
  };
}

/** CreateVpc: an IPv4 block of /16 to /28, optionally an Amazon IPv6 /56, and its own `default` group. */
export const createVpc: ActionHandler = ({ world, region, params, dryRun }) => {
  const raw = params.required('CidrBlock');
  const cidrBlock = canonicalIpv4Cidr(raw);
  if (!cidrBlock) throw errors.invalidValue(`Value (${raw}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`);
  const bits = prefixLength(cidrBlock);
  if (bits < 16 || bits > 28) throw new Ec2Error('InvalidVpc.Range', `The CIDR '${raw}' is invalid.`);
  const wantsIpv6 = params.bool('AmazonProvidedIpv6CidrBlock') ?? false;
  const tags = readTagSpecifications(params, 'vpc');
  if (dryRun) throw errors.dryRun();
  const vpc: Vpc = { id: world.newId('vpc'), cidrBlock, isDefault: false, tags, nextHost: 10 };
  if (wantsIpv6) vpc.ipv6CidrBlock = amazonIpv6Block(world);
  region.vpcs.set(vpc.id, vpc);
  createGroup(world, region, vpc, 'default', 'default VPC security group', new Map());
  return { vpc: vpcXml(world, region.name, vpc, 'pending') };
};

/** DescribeVpcs: by id or by filters, paginated. */
export const describeVpcs: ActionHandler = ({ world, region, params }) => {
  const ids = params.strList('VpcId');
  const fingerprint = fingerprintOf(params);
  const page = readPageRequest(params, fingerprint);
  const matches = compileFilters<Vpc>(
    params.filters(),
    {
      'vpc-id': (v) => v.id,
      'is-default': (v) => String(v.isDefault),
      cidr: (v) => v.cidrBlock,
      'cidr-block-association.cidr-block': (v) => v.cidrBlock,
      'ipv6-cidr-block-association.ipv6-cidr-block': (v) => v.ipv6CidrBlock,
      state: () => 'available',
      'owner-id': () => world.accountId,
    },
    (v) => v.tags,
  );
  const source = ids.length > 0 ? [...new Set(ids.map((id) => findVpc(region, id)))] : region.vpcs.values();
  const { items, nextToken } = pageOf(filtered(source, matches), page, fingerprint);
  return { vpcSet: items.map((v) => vpcXml(world, region.name, v, 'available')), nextToken };
};
