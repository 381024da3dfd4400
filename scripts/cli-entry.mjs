/**
 * esbuild options for dist/bin/sgsync.js, the file the `sgsync` command
 * runs: src/cli/bin.ts, which checks the Node.js version and only then
 * imports the command line, bundled apart from it (bundle-cli.mjs).
 *
 * Why apart: the rest of the bundle is built for Node 20 and opens with a
 * static import (sdkBundleOptions' banner). An ES module's imports load
 * before its first statement, and Node 18's or 12's parser rejects syntax
 * newer than it knows before any of it runs, so a Node too old for sgsync
 * would fail with an error that says nothing about why. This file is built
 * for Node 10's syntax, with nothing imported statically; its one dynamic
 * import, of the rest, runs only on a Node new enough to load it.
 */

/** The command line's module (src/cli/main.ts), beside the entry. */
export const MAIN_MODULE = './sgsync-main.js';

/** Resolves bin.ts's `import('./main.js')` to the separately built MAIN_MODULE. */
const mainIsSeparate = {
  name: 'sgsync-main-is-separate',
  setup(build) {
    build.onResolve({ filter: /^\.\/main\.js$/ }, () => ({ path: MAIN_MODULE, external: true }));
  },
};

/** The options that write `<outdir>/sgsync.js` from src/cli/bin.ts, under the checkout at `root`. */
export function cliEntryOptions(root, outdir) {
  return {
    absWorkingDir: root,
    entryPoints: { sgsync: 'src/cli/bin.ts' },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'node',
    // Old enough for every distribution's Node that cloud-init might install; import() is kept as it is
    // (esbuild would make it a require) since it only runs on a Node that has it.
    target: 'node10',
    supported: { 'dynamic-import': true },
    plugins: [mainIsSeparate],
    minifySyntax: true,
    logLevel: 'warning',
    metafile: true,
  };
}
