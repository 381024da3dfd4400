/**
 * The oldest Node.js sgsync runs on, checked before anything else loads: an
 * older Node (a distribution's nodejs 18, 12 or 10, which cloud-init's
 * default setup may install) fails on sgsync's dependencies with a syntax
 * error or a missing built-in that says nothing about the cause.
 *
 * This module is bundled into the tiny `sgsync` entry, which esbuild writes
 * for old Nodes (see scripts/cli-entry.mjs), so it may use any syntax; it
 * must import nothing but what that entry can carry.
 */

/** package.json `engines.node`: `>=20.19`. */
export const MIN_NODE = { major: 20, minor: 19 } as const;

/**
 * What to tell the user when `version` (`process.versions.node`, e.g.
 * `18.20.4`) is older than sgsync needs; undefined when it will do, or when
 * it cannot be read (a Node that reports no version is given the benefit of
 * the doubt rather than refused).
 *
 * @example nodeVersionProblem('18.20.4') // 'sgsync needs Node.js 20.19 or newer; this is Node.js 18.20.4. …'
 */
export function nodeVersionProblem(version: string): string | undefined {
  const match = /^v?(\d+)\.(\d+)/.exec(version);
  if (!match) return undefined;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  if (major > MIN_NODE.major || (major === MIN_NODE.major && minor >= MIN_NODE.minor)) return undefined;
  return (
    `sgsync needs Node.js ${MIN_NODE.major}.${MIN_NODE.minor} or newer; this is Node.js ${version}. ` +
    'Install a newer Node.js (the current LTS release, or your distribution\'s newer nodejs package) and run sgsync with it.\n'
  );
}
