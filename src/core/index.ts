/**
 * sgsync's pure core: the model, ownership, addresses, desired state,
 * capacity, safety checks and the planner. No I/O, no clock.
 */
export * from './model.js';
export * from './errors.js';
export { TAG, ownershipTags, isManagedBy, ruleTag, ruleMember, registeredAtMs } from './ownership.js';
export { DESCRIPTION_MAX_LENGTH, sanitizeDescription, isValidDescription, ruleDescription } from './description.js';
export { classifyAddress, admits, hostCidr, parseCidr, isOpenToWorld, type AddressClass, type ClassifiedAddress, type ParsedCidr } from './addresses.js';
export { parseIp, formatIp, type IpAddress } from './ip.js';
export { matchesSelector, ANY_VALUE } from './selector.js';
export { desiredRules, memberCidr, type DesiredState } from './desired.js';
export { CapacityLedger, DEFAULT_QUOTA, placeRules, type Placement, type Pool } from './capacity.js';
export { revokeLimit, withinGrace } from './safety.js';
export { normalizeProtocol, normalizePort, identityKey, desiredKey, canonicalCidr } from './rule-key.js';
export { plan } from './planner.js';
export { applyPlanToObserved } from './simulate.js';
