import { createHash } from 'node:crypto';
import { privateDnsName, publicDnsName } from '../addresses.js';
import { errors } from '../errors.js';
import { compileFilters } from '../filters.js';
import { fingerprintOf } from '../pagination.js';
import { INSTANCE_STATE_CODES, type Instance, type Region } from '../world.js';
import type { RawXml } from '../xml.js';
import type { ActionHandler } from './context.js';
import { architectureOf, reservationXml } from './instance-xml.js';
import { findInstances, isVisible, reservationIdOf } from './instances.js';

type Field = (i: Instance) => string | readonly string[] | undefined;

function filterFields(region: Region, ownerId: string): Record<string, Field> {
  const publicIp: Field = (i) => i.publicIp;
  const privateIp: Field = (i) => i.privateIp;
  const groupIds: Field = (i) => i.securityGroupIds;
  const ipv6: Field = (i) => i.ipv6;
  return {
    'instance-id': (i) => i.id,
    'instance-state-name': (i) => i.state,
    'instance-state-code': (i) => String(INSTANCE_STATE_CODES[i.state]),
    'instance-type': (i) => i.instanceType,
    'image-id': (i) => i.imageId,
    'availability-zone': (i) => i.availabilityZone,
    'vpc-id': (i) => i.vpcId,
    'subnet-id': (i) => i.subnetId,
    'reservation-id': (i) => reservationIdOf(i),
    'owner-id': () => ownerId,
    'key-name': (i) => i.keyName,
    'instance-lifecycle': (i) => (i.spot ? 'spot' : undefined),
    architecture: (i) => architectureOf(i.instanceType),
    'ip-address': publicIp,
    'network-interface.addresses.association.public-ip': publicIp,
    'private-ip-address': privateIp,
    'network-interface.addresses.private-ip-address': privateIp,
    'ipv6-address': ipv6,
    'network-interface.ipv6-addresses.ipv6-address': ipv6,
    'dns-name': (i) => (i.publicIp ? publicDnsName(i.publicIp, region.name) : undefined),
    'private-dns-name': (i) => privateDnsName(i.privateIp, region.name),
    'instance.group-id': groupIds,
    'group-id': groupIds,
    'instance.group-name': (i) => i.securityGroupIds.map((id) => region.groups.get(id)?.name ?? ''),
  };
}

/**
 * The NextToken of DescribeInstances names the last instance returned (and
 * its position, in case that instance has since been forgotten), so that a
 * walk resumes exactly after it without re-reading the pages before, and
 * launches or expiries between pages neither skip nor repeat anyone.
 */
interface Resume {
  position: number;
  lastId: string;
}

const fingerprintHash = (fingerprint: string) => createHash('sha256').update(fingerprint).digest('base64url').slice(0, 12);

function encodeResume(resume: Resume, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ p: resume.position, i: resume.lastId, f: fingerprintHash(fingerprint) })).toString('base64url');
}

function decodeResume(token: string, fingerprint: string): Resume {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { p?: unknown; i?: unknown; f?: unknown };
    if (Number.isSafeInteger(t.p) && (t.p as number) >= 0 && typeof t.i === 'string' && t.f === fingerprintHash(fingerprint)) {
      return { position: t.p as number, lastId: t.i };
    }
  } catch {
    // answered below as AWS answers a token it did not issue
  }
  throw errors.invalidValue(`The token '${token.slice(0, 64)}' is invalid for this request.`);
}

/**
 * DescribeInstances: visible instances (terminated ones for an hour, and
 * with a read lag only once it has passed since their launch) in launch order, grouped by reservation, filtered and paged. A page costs the
 * instances it skips to reach its start plus the ones it returns; nothing is
 * copied or sorted.
 */
export const describeInstances: ActionHandler = ({ world, region, params, now, instanceReadLagMs = 0 }) => {
  const ids = params.strList('InstanceId');
  if (ids.length > 0 && params.has('MaxResults')) {
    throw errors.combination('The parameter instancesSet cannot be used with the parameter maxResults');
  }
  const maxResults = params.int('MaxResults', { min: 5, max: 1000 });
  const fingerprint = fingerprintOf(params);
  const token = params.str('NextToken');
  const resume = token === undefined ? undefined : decodeResume(token, fingerprint);
  const matches = compileFilters(params.filters(), filterFields(region, world.accountId), (i) => i.tags);
  const source: Iterable<Instance> = ids.length > 0 ? findInstances(region, ids, now) : region.instances.values();

  // Skip to just after the last instance of the previous page: by id while it still exists, else by position.
  let skipping = resume !== undefined;
  const byId = resume !== undefined && (ids.length > 0 ? ids.includes(resume.lastId) : region.instances.has(resume.lastId));
  const page: Instance[] = [];
  let nextToken: string | undefined;
  let position = 0;
  let lastPosition = 0;
  for (const instance of source) {
    position++;
    if (resume && skipping) {
      if (byId) {
        if (instance.id === resume.lastId) skipping = false;
        continue;
      }
      if (position <= resume.position) continue;
      skipping = false;
    }
    if (!isVisible(instance, now) || !matches(instance)) continue;
    // Eventual consistency, when fault injection asks for it: a launch is not listed until the lag has passed.
    if (instanceReadLagMs > 0 && instance.launchTime > now - instanceReadLagMs) continue;
    if (maxResults !== undefined && page.length === maxResults) {
      nextToken = encodeResume({ position: lastPosition, lastId: page[page.length - 1]!.id }, fingerprint);
      break;
    }
    page.push(instance);
    lastPosition = position;
  }
  return { reservationSet: groupByReservation(page, region, world.accountId), nextToken };
};

function groupByReservation(page: readonly Instance[], region: Region, ownerId: string): RawXml[] {
  const out: RawXml[] = [];
  for (let start = 0; start < page.length; ) {
    const id = reservationIdOf(page[start]!);
    let end = start + 1;
    while (end < page.length && reservationIdOf(page[end]!) === id) end++;
    out.push(reservationXml(page.slice(start, end), region, ownerId));
    start = end;
  }
  return out;
}
