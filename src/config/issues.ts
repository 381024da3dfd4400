/**
 * Turns zod's issues into messages a person can act on: "required key is
 * missing", "unknown key "prots", did you mean "ports"?", the offending
 * value quoted. One entry per problem, each with the path it concerns.
 */
import type { z } from 'zod';
import { closestKey, knownKeysAt } from './did-you-mean.js';
import type { JsonSchema } from './json-schema.js';

export interface RawIssue {
  path: PropertyKey[];
  message: string;
  /** Point at the key itself rather than its value (unknown keys). */
  atKey: boolean;
}

const ZOD_DEFAULT = /^(Invalid input|Invalid option|Invalid string|Too small|Too big|Unrecognized key|Invalid)/;

const EXPECTED: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v = data;
  for (const segment of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[segment];
  }
  return v;
}

/** A value as it appears in a message: strings quoted, lists and mappings named. */
export function describeValue(v: unknown): string {
  if (v === null) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${v}`;
  return typeof v;
}

/** What a union branch that failed at the top would have taken: types, literal values, and those of nested unions. */
function accepted(issue: z.core.$ZodIssue): string[] {
  if (issue.path.length > 0) return [];
  if (issue.code === 'invalid_type') return [EXPECTED[issue.expected] ?? issue.expected];
  if (issue.code === 'invalid_value') return issue.values.map((v) => JSON.stringify(v));
  if (issue.code === 'invalid_union') return issue.errors.flatMap((b) => b.flatMap(accepted));
  return [];
}

function translate(issue: z.core.$ZodIssue, path: PropertyKey[], data: unknown, schema: JsonSchema): RawIssue[] {
  const value = valueAt(data, path);
  const keep = !ZOD_DEFAULT.test(issue.message);
  const one = (message: string): RawIssue[] => [{ path, message: keep ? issue.message : message, atKey: false }];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(schema, path);
      return issue.keys.map((key) => {
        const hint = closestKey(key, known);
        const tail = hint ? `, did you mean "${hint}"?` : known.length > 0 ? ` (known keys: ${known.join(', ')})` : '';
        return { path: [...path, key], message: `unknown key "${key}"${tail}`, atKey: true };
      });
    }
    case 'invalid_union': {
      const deeper = issue.errors.filter((branch) => branch.some((i) => i.path.length > 0));
      if (deeper.length === 1 && deeper[0]) return deeper[0].flatMap((i) => translate(i, [...path, ...i.path], data, schema));
      const names = [...new Set(issue.errors.flatMap((b) => b.flatMap(accepted)))];
      const choice = names.length > 2 ? `${names.slice(0, -1).join(', ')}, or ${names.at(-1)}` : names.join(' or ');
      return one(`expected ${choice}, got ${describeValue(value)}`);
    }
    case 'invalid_type':
      if (value === undefined) return [{ path, message: 'required key is missing', atKey: false }];
      return one(`expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(value)}`);
    case 'invalid_value': {
      const options = issue.values.map(String);
      const hint = typeof value === 'string' ? closestKey(value, options) : undefined;
      return one(`${describeValue(value)} is not one of ${options.join(', ')}${hint ? `; did you mean "${hint}"?` : ''}`);
    }
    case 'too_small': {
      const min = String(issue.minimum);
      if (issue.origin === 'array') return one(`list at least ${min} item${min === '1' ? '' : 's'}`);
      if (issue.origin === 'string') return one(`must be at least ${min} character${min === '1' ? '' : 's'} long`);
      if (issue.inclusive === false) return one(`${describeValue(value)} is too small: it must be more than ${min}`);
      return one(`${describeValue(value)} is too small: the minimum is ${min}`);
    }
    case 'too_big': {
      const max = String(issue.maximum);
      if (issue.origin === 'array') return one(`list at most ${max} items`);
      if (issue.origin === 'string') return one(`must be at most ${max} characters long`);
      return one(`${describeValue(value)} is too big: the maximum is ${max}`);
    }
    case 'invalid_format':
      return one(`${describeValue(value)} is not a valid ${issue.format}`);
    default:
      return [{ path, message: issue.message, atKey: false }];
  }
}

/**
 * Every zod issue as one or more plain messages, in the order of the file.
 * A value of the wrong type gets that one message: zod also runs the
 * checks meant for the right type (a string's length taken as a list's),
 * whose complaints would be beside the point.
 */
export function explainIssues(issues: readonly z.core.$ZodIssue[], data: unknown, schema: JsonSchema): RawIssue[] {
  const key = (path: readonly PropertyKey[]) => JSON.stringify(path.map(String));
  const mistyped = new Set(issues.filter((i) => i.code === 'invalid_type').map((i) => key(i.path)));
  return issues.filter((i) => i.code === 'invalid_type' || !mistyped.has(key(i.path))).flatMap((i) => translate(i, [...i.path], data, schema));
}
