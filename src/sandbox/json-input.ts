import type { z } from 'zod';

/**
 * Reading JSON that people write (faults files, state files, control-API
 * bodies): parse, validate, and on failure one message that says where and
 * what, e.g. `rules[0].dropRate: Too big: expected number to be <=1`.
 */
export class JsonInputError extends Error {
  override name = 'JsonInputError';
}

/** `a[0].b` from a zod issue path. */
function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** The first few problems of a failed validation, one per line. */
export function describeIssues(error: z.ZodError, limit = 5): string {
  const lines = error.issues.slice(0, limit).map((issue) => {
    const where = pathText(issue.path);
    return where ? `${where}: ${issue.message}` : issue.message;
  });
  if (error.issues.length > limit) lines.push(`… and ${error.issues.length - limit} more`);
  return lines.join('; ');
}

/**
 * Parses `text` as JSON and validates it with `schema`. Throws JsonInputError
 * whose message starts with `what` (e.g. `faults file ./f.json`).
 */
export function parseJsonInput<S extends z.ZodType>(text: string, schema: S, what: string): z.infer<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new JsonInputError(`${what} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return validateInput(raw, schema, what);
}

/** Validates an already parsed value; see parseJsonInput. */
export function validateInput<S extends z.ZodType>(raw: unknown, schema: S, what: string): z.infer<S> {
  const result = schema.safeParse(raw);
  if (!result.success) throw new JsonInputError(`${what} is invalid: ${describeIssues(result.error)}`);
  return result.data;
}
