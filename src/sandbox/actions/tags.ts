import { Ec2Error, errors } from '../errors.js';
import { compileFilters } from '../filters.js';
import { fingerprintOf, readPageRequest } from '../pagination.js';
import type { Params } from '../query.js';
import type { Region, Tags } from '../world.js';
import type { ActionHandler } from './context.js';
import { sweepTerminated } from './instances.js';
import { findTaggable, type Taggable } from './lookup.js';
import { filtered, pageOf } from './page-iterable.js';

/** Tags per resource, AWS's fixed limit. */
export const MAX_TAGS = 50;

/** Refuses a tag EC2 would refuse: key 1–128 characters and not `aws:`, value up to 256. */
export function checkTag(key: string, value: string): void {
  if (key.length === 0 || key.length > 128) throw errors.invalidValue(`Tag key '${key.slice(0, 64)}' must be 1 to 128 characters long.`);
  if (key.toLowerCase().startsWith('aws:')) throw errors.invalidValue(`Tag keys starting with 'aws:' are reserved for internal use: '${key}'.`);
  if (value.length > 256) throw errors.invalidValue(`The value of tag '${key}' exceeds 256 characters.`);
}

function tagLimitExceeded(id: string): Ec2Error {
  return new Ec2Error('TagLimitExceeded', `The maximum number of tags (${MAX_TAGS}) for resource '${id}' has been reached.`);
}

/**
 * The tags a create-style request asks for with `TagSpecification.N`, all of
 * which must be for `resourceType` (the one resource this action creates).
 */
export function readTagSpecifications(params: Params, resourceType: string): Tags {
  const tags: Tags = new Map();
  for (const spec of params.list('TagSpecification')) {
    const type = spec.required('ResourceType');
    if (type !== resourceType) throw errors.invalidValue(`'${type}' is not a valid taggable resource type for this operation.`);
    const asked = spec.tags('Tag');
    if (asked.length === 0) throw errors.invalidValue('Tag specification must have at least one tag');
    for (const { key, value } of asked) {
      checkTag(key, value);
      tags.set(key, value);
    }
  }
  if (tags.size > MAX_TAGS) throw tagLimitExceeded(`new ${resourceType}`);
  return tags;
}

/** CreateTags: adds or overwrites tags on every listed resource, or on none. */
export const createTags: ActionHandler = ({ region, params, now, dryRun }) => {
  sweepTerminated(region, now);
  const ids = params.strList('ResourceId');
  if (ids.length === 0) throw errors.missing('ResourceId');
  const tags = params.tags('Tag');
  if (tags.length === 0) throw errors.missing('Tag');
  for (const { key, value } of tags) checkTag(key, value);
  const resources = ids.map((id) => findTaggable(region, id));
  for (const resource of resources) {
    const keys = new Set([...resource.tags.keys(), ...tags.map((t) => t.key)]);
    if (keys.size > MAX_TAGS) throw tagLimitExceeded(resource.id);
  }
  if (dryRun) throw errors.dryRun();
  for (const resource of resources) for (const { key, value } of tags) resource.tags.set(key, value);
  return { return: true };
};

/**
 * DeleteTags: removes the listed keys (only where the value matches, when a
 * value is given), or every tag when no key is listed.
 */
export const deleteTags: ActionHandler = ({ region, params, now, dryRun }) => {
  sweepTerminated(region, now);
  const ids = params.strList('ResourceId');
  if (ids.length === 0) throw errors.missing('ResourceId');
  const tags = params.list('Tag').map((t) => ({ key: t.required('Key'), value: t.str('Value') }));
  for (const { key } of tags) if (key.toLowerCase().startsWith('aws:')) throw errors.invalidValue(`Tag keys starting with 'aws:' are reserved: '${key}'.`);
  const resources = ids.map((id) => findTaggable(region, id));
  if (dryRun) throw errors.dryRun();
  for (const resource of resources) {
    if (tags.length === 0) resource.tags.clear();
    for (const { key, value } of tags) {
      if (value === undefined || resource.tags.get(key) === value) resource.tags.delete(key);
    }
  }
  return { return: true };
};

const TYPES: readonly Taggable['type'][] = ['vpc', 'security-group', 'security-group-rule', 'instance'];

/** Every taggable resource of the region, narrowed up front by exact id and type filters. */
function* taggables(region: Region, ids: readonly string[] | undefined, types: ReadonlySet<string>): Generator<Taggable> {
  if (ids) {
    for (const id of ids) {
      try {
        const found = findTaggable(region, id);
        if (types.has(found.type)) yield found;
      } catch {
        // DescribeTags filters; an id that names nothing just matches nothing.
      }
    }
    return;
  }
  const collections = { vpc: region.vpcs, 'security-group': region.groups, 'security-group-rule': region.rules, instance: region.instances };
  for (const type of TYPES) {
    if (!types.has(type)) continue;
    for (const [id, resource] of collections[type]) if (resource.tags.size > 0) yield { id, type, tags: resource.tags };
  }
}

type TagRow = { resourceId: string; resourceType: string; key: string; value: string };

/** DescribeTags: one row per tag of every resource the filters let through. */
export const describeTags: ActionHandler = ({ region, params, now }) => {
  // A terminated instance and its tags disappear once its visible hour is over.
  sweepTerminated(region, now);
  const filters = params.filters();
  const fingerprint = fingerprintOf(params);
  const page = readPageRequest(params, fingerprint);
  const matches = compileFilters<TagRow>(
    filters,
    { 'resource-id': (r) => r.resourceId, 'resource-type': (r) => r.resourceType, key: (r) => r.key, value: (r) => r.value },
    () => new Map(),
  );
  const exact = (name: string) => {
    const values = filters.filter((f) => f.name === name).flatMap((f) => f.values);
    return values.length > 0 && values.every((v) => !/[*?]/.test(v)) ? [...new Set(values)] : undefined;
  };
  const types = new Set<string>(exact('resource-type') ?? TYPES);
  const rows = function* (): Generator<TagRow> {
    for (const resource of taggables(region, exact('resource-id'), types)) {
      for (const [key, value] of resource.tags) yield { resourceId: resource.id, resourceType: resource.type, key, value };
    }
  };
  const { items, nextToken } = pageOf(filtered(rows(), matches), page, fingerprint);
  return { tagSet: items, nextToken };
};
