import { fileURLToPath } from 'node:url';
import { Script, createContext } from 'node:vm';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain ES module build script, without type declarations
import { MAIN_MODULE, cliEntryOptions } from './cli-entry.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The entry as bundle-cli.mjs writes it, built in memory. */
async function entryText(): Promise<string> {
  const options = (cliEntryOptions as (root: string, outdir: string) => object)(root, '/nonexistent/dist/bin');
  const result = await build({ ...options, write: false });
  return result.outputFiles.find((f) => f.path.endsWith('/sgsync.js'))!.text;
}

/** Runs the entry as a plain script under a Node that says it is `version`, recording what it prints and imports. */
async function runUnder(version: string) {
  const imported: string[] = [];
  let stderr = '';
  const process: { versions: { node: string }; exitCode?: number; stderr: { write(s: string): boolean } } = {
    versions: { node: version },
    stderr: { write: (s) => ((stderr += s), true) },
  };
  const text = await entryText();
  // A classic script, not a module: it compiles only if nothing is imported statically, which an old Node would load first.
  expect(() => new Script(text)).not.toThrow();
  // vm runs import() only behind a flag: the one dynamic import is pointed at a recorder instead.
  expect(text.match(/\bimport\(/g)).toHaveLength(1);
  const script = new Script(text.replace(/\bimport\(/, 'recordImport('));
  script.runInContext(createContext({ process, recordImport: (specifier: string) => imported.push(specifier) }));
  return { stderr, exitCode: process.exitCode, imported };
}

describe('the sgsync entry', () => {
  it('on a Node older than 20.19, says so, exits 1 and loads nothing else', async () => {
    const run = await runUnder('12.22.9');
    expect(run.stderr).toMatch(/^sgsync needs Node\.js 20\.19 or newer; this is Node\.js 12\.22\.9\. Install a newer Node\.js/);
    expect(run.exitCode).toBe(1);
    expect(run.imported).toEqual([]);
  });

  it('on a Node new enough, loads the command line and says nothing', async () => {
    const run = await runUnder('20.19.0');
    expect(run).toEqual({ stderr: '', exitCode: undefined, imported: [MAIN_MODULE] });
  });
});
