import { describe, expect, it } from 'vitest';
import { closestKey, editDistance, knownKeysAt } from './did-you-mean.js';
import { configJsonSchema } from './json-schema.js';

describe('did you mean', () => {
  it.each([
    ['prots', ['ports', 'groups', 'region'], 'ports'],
    ['prot', ['port', 'protocol'], 'port'],
    ['adress', ['address', 'families'], 'address'],
    ['grace_seconds', ['graceSeconds', 'revokeLimit'], 'graceSeconds'],
    ['GraceSeconds', ['graceSeconds'], 'graceSeconds'],
    ['colour', ['ports', 'groups'], undefined],
  ])('suggests for %j among %j: %j', (key, known, expected) => {
    expect(closestKey(key, known)).toBe(expected);
  });

  it('counts a swap of neighbouring letters as one edit', () => {
    expect(editDistance('prot', 'port')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it.each([
    [[], ['deployment', 'targets', 'safety', 'agent', 'controller', 'aws']],
    [['targets', 0, 'members'], ['regions', 'tags']],
    [['targets', 3, 'ports', 1], ['protocol', 'port', 'from', 'to', 'type', 'code']],
    [['safety', 'revokeLimit'], ['count', 'fraction']],
  ])('knows the keys allowed at %j', (path, keys) => {
    expect(knownKeysAt(configJsonSchema(), path)).toEqual(keys);
  });
});
