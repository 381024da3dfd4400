import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configJsonSchema, type JsonSchema } from './json-schema.js';
import { parseConfig } from './load.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const examples = readdirSync(`${root}examples`).filter((f) => f.endsWith('.yaml'));

/**
 * Checks a value against the JSON Schema keywords sgsync's schema uses, so
 * the published schema is tested as a schema, not only as text.
 */
interface Keywords {
  anyOf?: JsonSchema[];
  type?: string | string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
}

function schemaProblems(schema: JsonSchema, value: unknown, path = '$'): string[] {
  const s = schema as Keywords;
  const problems: string[] = [];
  const type = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  if (s.anyOf) {
    const fits = s.anyOf.some((b) => schemaProblems(b, value, path).length === 0);
    return fits ? [] : [`${path}: matches no alternative`];
  }
  if (s.type) {
    const types = [s.type].flat();
    const ok = types.some((t) => (t === 'integer' ? Number.isInteger(value) : t === type));
    if (!ok) return [`${path}: expected ${types.join(' or ')}, got ${type}`];
  }
  if (s.enum && !s.enum.includes(value)) problems.push(`${path}: not in enum`);
  if (typeof value === 'number') {
    if (s.minimum !== undefined && value < s.minimum) problems.push(`${path}: below minimum`);
    if (s.maximum !== undefined && value > s.maximum) problems.push(`${path}: above maximum`);
  }
  if (typeof value === 'string') {
    if (s.pattern && !new RegExp(s.pattern, 'u').test(value)) problems.push(`${path}: does not match ${s.pattern}`);
    if (s.minLength !== undefined && value.length < s.minLength) problems.push(`${path}: too short`);
    if (s.maxLength !== undefined && value.length > s.maxLength) problems.push(`${path}: too long`);
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) problems.push(`${path}: too few items`);
    if (s.maxItems !== undefined && value.length > s.maxItems) problems.push(`${path}: too many items`);
    const items = s.items;
    if (items) value.forEach((v, i) => problems.push(...schemaProblems(items, v, `${path}[${i}]`)));
  }
  if (type === 'object') {
    const obj = value as Record<string, unknown>;
    const props = s.properties ?? {};
    for (const key of s.required ?? []) if (!(key in obj)) problems.push(`${path}.${key}: required`);
    for (const [key, v] of Object.entries(obj)) {
      if (props[key]) problems.push(...schemaProblems(props[key], v, `${path}.${key}`));
      else if (s.additionalProperties === false) problems.push(`${path}.${key}: not allowed`);
      else if (typeof s.additionalProperties === 'object') problems.push(...schemaProblems(s.additionalProperties, v, `${path}.${key}`));
      if (s.propertyNames) problems.push(...schemaProblems(s.propertyNames, key, `${path}.${key} (name)`));
    }
  }
  return problems;
}

describe('the examples', () => {
  it('include the ones the documentation promises', () => {
    expect(examples).toEqual(expect.arrayContaining(['hub-and-spoke.yaml', 'two-ports.yaml', 'ipv6.yaml', 'private-peering.yaml', 'demo.yaml']));
  });

  it.each(examples)('%s is a valid configuration', (file) => {
    const loaded = parseConfig(readFileSync(`${root}examples/${file}`, 'utf8'), file);
    expect(loaded.targets.length).toBeGreaterThan(0);
  });

  it.each(examples)('%s satisfies the published JSON Schema', (file) => {
    expect(schemaProblems(configJsonSchema(), parse(readFileSync(`${root}examples/${file}`, 'utf8')))).toEqual([]);
  });
});

describe('the JSON Schema', () => {
  it('is draft 2020-12 and refuses what the loader refuses in shape', () => {
    const schema = configJsonSchema();
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const bad = { deployment: 'x', targets: [{ name: 'a', region: 'us-east-1', groups: ['sg-1'], ports: ['44x'], members: {}, prots: [] }] };
    expect(schemaProblems(schema, bad)).toEqual([
      '$.targets[0].groups[0]: does not match ^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$',
      '$.targets[0].ports[0]: matches no alternative',
      '$.targets[0].prots: not allowed',
    ]);
  });

  it('is committed up to date in docs/sgsync.schema.json (regenerate with: sgsync config schema > docs/sgsync.schema.json)', () => {
    const committed: unknown = JSON.parse(readFileSync(`${root}docs/sgsync.schema.json`, 'utf8'));
    expect(committed).toEqual(configJsonSchema());
  });
});
