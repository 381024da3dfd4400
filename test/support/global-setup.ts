import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Several projects share this setup; the module is loaded once per run, so build once.
let built = false;

/**
 * End-to-end and browser suites run the real `sgsync` binary as processes,
 * so they need a fresh build of dist/, bundled binary included. Building
 * once here keeps every suite on the same code.
 */
export default function setup(): void {
  if (built) return;
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  // The `sgsync` binary that ships (package.json "bin") is the bundle.
  execFileSync(process.execPath, ['scripts/bundle-cli.mjs'], { cwd: root, stdio: 'inherit' });
  built = true;
}
