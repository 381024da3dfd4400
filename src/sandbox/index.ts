/**
 * The sgsync sandbox: a local, multi-region EC2 Query API and IMDSv2
 * emulator with AWS's quotas, errors, pagination and throttling.
 */
export { startSandbox, type RunningSandbox, type StartSandboxOptions } from './server.js';
export { Sandbox, type SandboxOptions } from './sandbox.js';
export { World, DEFAULT_REGIONS, OPT_IN_REGIONS } from './world.js';
export type { ThrottleMode } from './throttle.js';
