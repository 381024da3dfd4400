#!/usr/bin/env node
/**
 * The `sgsync` command: checks the Node.js version, then loads the command
 * line (main.ts). The check comes first and alone because an ES module's
 * imports all load before its first statement runs: on a Node too old for
 * them, a check in main.ts would never get to speak. The bundle of this file
 * is built for old Nodes (scripts/cli-entry.mjs), so that they can parse it.
 */
import { EXIT } from './exit-codes.js';
import { nodeVersionProblem } from './node-version.js';

const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  process.stderr.write(problem);
  process.exitCode = EXIT.FAILURE;
} else {
  void import('./main.js');
}
