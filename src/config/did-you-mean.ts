/**
 * "Did you mean" hints for unknown keys: the known keys at a place come from
 * the JSON Schema, and the closest one by edit distance is suggested.
 */
import type { JsonSchema } from './json-schema.js';

const isSchema = (v: unknown): v is JsonSchema => typeof v === 'object' && v !== null && !Array.isArray(v);

function branches(s: JsonSchema): JsonSchema[] {
  const alts = [s.anyOf, s.oneOf, s.allOf].flatMap((a) => (Array.isArray(a) ? a.filter(isSchema) : []));
  return alts.length > 0 ? alts.flatMap(branches) : [s];
}

/** The keys an object at `path` may have, according to the schema (empty if any key goes). */
export function knownKeysAt(schema: JsonSchema, path: readonly PropertyKey[]): string[] {
  let level = branches(schema);
  for (const segment of path) {
    level = level.flatMap((s) => {
      const next = typeof segment === 'number' ? s.items : isSchema(s.properties) ? s.properties[String(segment)] : undefined;
      return isSchema(next) ? branches(next) : [];
    });
  }
  return [...new Set(level.flatMap((s) => (isSchema(s.properties) ? Object.keys(s.properties) : [])))];
}

/**
 * Edit distance counting a swap of neighbours as one edit (`prot` is one
 * from `port`), case-insensitive.
 */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? Infinity;
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(x.length, y.length);
}

/**
 * The known key closest to `key`, if it is close enough to be a typo
 * (or the same words in another case style, such as `grace_seconds`).
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const squash = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const exactish = known.find((k) => squash(k) === squash(key));
  if (exactish) return exactish;
  let best: { key: string; distance: number } | undefined;
  for (const k of known) {
    const distance = editDistance(key, k);
    if (!best || distance < best.distance) best = { key: k, distance };
  }
  const allowed = Math.max(1, Math.floor(key.length / 3));
  return best && best.distance <= allowed ? best.key : undefined;
}
