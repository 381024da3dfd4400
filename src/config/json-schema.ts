/**
 * sgsync.yaml as JSON Schema (draft 2020-12), derived from the zod schema so
 * the two never disagree. Editors use it for completion (yaml-language-server),
 * and the loader uses it to suggest the key a user probably meant.
 */
import * as z from 'zod';
import { configSchema } from './schema.js';

export type JsonSchema = Record<string, unknown>;

let cached: JsonSchema | undefined;

/** The JSON Schema of sgsync.yaml as written (defaults are shown, not required). */
export function configJsonSchema(): JsonSchema {
  cached ??= {
    ...z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' }),
    title: 'sgsync.yaml',
  };
  return cached;
}
