#!/usr/bin/env node
/**
 * Bundles the command line (src/cli/main.ts) into dist/bin/: a tiny entry,
 * sgsync.js, that checks the Node.js version (cli-entry.mjs says why it is
 * built apart), the program, sgsync-main.js, and a chunk per command, loaded
 * only when that command runs.
 *
 *   node scripts/bundle-cli.mjs
 *
 * Why a bundle when tsc already builds dist/cli/: the AWS SDK ships as one
 * 2 MB CommonJS file that Node parses whole, about a second of CPU on every
 * start. Bundled from its ES modules, only the commands and middleware sgsync
 * uses are kept, so an agent starting at boot — or fifty at once — pays a
 * fraction of that. aws-sdk-plugins.mjs helps twice: it lets esbuild drop the
 * schemas of EC2 actions sgsync never calls, and it swaps in a faster copy of
 * the SDK's XML parser. dist/cli/ stays for the library and for debugging.
 *
 * The bundle still resolves htmx.org and examples/ at run time, through
 * node_modules and the package root, exactly as dist/cli/ does.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, URL } from 'node:url';
import { build } from 'esbuild';
import { sdkBundleOptions } from './aws-sdk-plugins.mjs';
import { cliEntryOptions } from './cli-entry.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'dist', 'bin');

const main = await build({
  absWorkingDir: root,
  entryPoints: { 'sgsync-main': 'src/cli/main.ts' },
  outdir,
  // Chunks sit beside the entry, so paths relative to import.meta.url (examples/) match dist/cli/.
  chunkNames: 'sgsync-[hash]',
  // Only the EC2 schemas the commands use, and a faster XML parser (see aws-sdk-plugins.mjs).
  ...sdkBundleOptions,
  splitting: true,
  minifySyntax: true,
  minifyWhitespace: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
});

// The entry last, once what it imports is there.
const entry = await build(cliEntryOptions(root, outdir));

// Files are overwritten in place rather than the directory emptied first, so a
// suite or a demo that rebuilds never leaves a running sgsync without its
// entry; chunks of earlier builds are pruned afterwards.
const outputs = [...Object.keys(main.metafile.outputs), ...Object.keys(entry.metafile.outputs)];
const written = new Set(outputs.map((f) => relative(outdir, join(root, f))));
for (const file of readdirSync(outdir)) if (!written.has(file)) rmSync(join(outdir, file));
