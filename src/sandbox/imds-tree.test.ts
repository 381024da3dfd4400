import { describe, expect, it } from 'vitest';
import { architectureOf } from './actions/instance-xml.js';
import { identityDocument, imdsTree, readNode, type ImdsNode } from './imds-tree.js';
import { newRegion, type Instance } from './world.js';

describe('reading the metadata tree', () => {
  const tree: ImdsNode = {
    'meta-data': {
      'instance-id': 'i-0123456789abcdef0',
      'public-ipv4': undefined,
      placement: { region: 'eu-west-1' },
      late: () => 'computed',
    },
  };
  it.each([
    [['meta-data', 'instance-id'], 'i-0123456789abcdef0'],
    [['meta-data', 'placement', 'region'], 'eu-west-1'],
    [['meta-data', 'late'], 'computed'],
    [['meta-data', ''], 'instance-id\nplacement/\nlate'],
    [['meta-data', 'placement'], 'region'],
    [['meta-data', 'public-ipv4'], undefined],
    [['meta-data', 'instance-id', 'deeper'], undefined],
    [['meta-data', 'constructor'], undefined],
  ])('%j reads %j', (segments, expected) => {
    expect(readNode(tree, segments)).toBe(expected);
  });
});

describe('the identity document', () => {
  it("is laid out as EC2's is and parses as JSON", () => {
    const instance = {
      id: 'i-0123456789abcdef0',
      imageId: 'ami-0123456789abcdef0',
      instanceType: 'm7g.large',
      availabilityZone: 'eu-west-1b',
      privateIp: '172.31.0.10',
      launchTime: Date.parse('2030-01-02T03:04:05Z'),
    } as Instance;
    const text = identityDocument(instance, newRegion('eu-west-1', 'opt-in-not-required'), '123456789012');
    expect(text.split('\n').slice(0, 3)).toEqual(['{', '  "accountId" : "123456789012",', '  "architecture" : "arm64",']);
    expect(JSON.parse(text)).toMatchObject({ pendingTime: '2030-01-02T03:04:05Z', region: 'eu-west-1', kernelId: null });
  });
});

describe('architecture from the instance type', () => {
  it.each([
    ['t3.micro', 'x86_64'],
    ['m7g.large', 'arm64'],
    ['c6gn.xlarge', 'arm64'],
    ['t4g.nano', 'arm64'],
    ['g4dn.xlarge', 'x86_64'],
    ['g5g.xlarge', 'arm64'],
    ['m5d.large', 'x86_64'],
  ])('%s is %s', (type, arch) => {
    expect(architectureOf(type)).toBe(arch);
  });
});

describe('instance tags in the metadata tree', () => {
  it('lists every key AWS shows in metadata, commas included, and leaves out the others', () => {
    const keys = ['role', 'cost,center', 'a+b=c', 'team:name@x', 'v1.2_x-y', 'with space', 'k8s.io/role', '.', '..', '_index'];
    const instance = {
      id: 'i-0123456789abcdef0',
      imageId: 'ami-0123456789abcdef0',
      instanceType: 't3.micro',
      availabilityZone: 'eu-west-1a',
      privateIp: '172.31.0.10',
      launchTime: Date.parse('2030-01-02T03:04:05Z'),
      securityGroupIds: [],
      tags: new Map(keys.map((k) => [k, `value of ${k}`])),
    } as unknown as Instance;
    const tree = imdsTree(instance, newRegion('eu-west-1', 'opt-in-not-required'), '123456789012', () => {
      throw new Error('no signature is asked for');
    });
    expect(readNode(tree, ['meta-data', 'tags', 'instance'])?.split('\n')).toEqual(['role', 'cost,center', 'a+b=c', 'team:name@x', 'v1.2_x-y']);
    expect(readNode(tree, ['meta-data', 'tags', 'instance', 'cost,center'])).toBe('value of cost,center');
  });
});
