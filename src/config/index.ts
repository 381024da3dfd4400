/** sgsync.yaml: schema, loading, and the model it produces. */
export { configSchema, portSchema, type SgsyncConfig, type SgsyncConfigInput, type TargetConfig } from './schema.js';
export { configJsonSchema, type JsonSchema } from './json-schema.js';
export { parseConfig, loadConfig, findConfigFile, formatIssue, MAX_ISSUE_LINES, type ConfigIssue, type LoadedConfig, type Env } from './load.js';
export { toTargets, toSafety, normaliseTags, canonicalPorts, type SafetySettings } from './targets.js';
export { parsePortShorthand, canonicalPort, type PortInput, type PortObject } from './ports.js';
export { configWarnings } from './checks.js';
export { DEFAULTS, AWS_LIMITS, DEFAULT_CONFIG_FILE, ENV_OVERRIDES } from './defaults.js';
export { groupKeys, missingGroupText, missingGroupWarnings, MISSING_GROUP_FIX } from './group-keys.js';
