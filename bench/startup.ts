/**
 * What starting sgsync costs: the built CLI's `--version` (loads nothing
 * but the entry), `reconcile --help` (loads the reconcile command, the AWS
 * SDK with it) and importing the Lambda bundle, as a cold start does. Each
 * runs as a process of its own, `--runs` times in turn; reported are the
 * median wall time, CPU time and peak RSS, and the size of the code loaded.
 * Builds dist/ and dist/lambda/ first.
 *
 *   npx tsx bench/startup.ts [--runs N]
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runMeasuredNode, type MeasuredRun } from './support/measured-process.js';
import { median, runsOption } from './support/runs.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = runsOption(9);

execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
execFileSync(process.execPath, ['scripts/build-lambda.mjs'], { cwd: root, stdio: 'ignore' });

const lambda = pathToFileURL(join(root, 'dist/lambda/index.mjs')).href;
const cases: [string, string[]][] = [
  ['sgsync --version', ['dist/bin/sgsync.js', '--version']],
  ['sgsync reconcile --help', ['dist/bin/sgsync.js', 'reconcile', '--help']],
  ['import the Lambda bundle', ['--input-type=module', '-e', `await import(${JSON.stringify(lambda)})`]],
];
const results = new Map<string, MeasuredRun[]>(cases.map(([name]) => [name, []]));
for (let i = 0; i < runs; i++) {
  for (const [name, args] of cases) {
    const run = await runMeasuredNode(args);
    if (run.code !== 0) throw new Error(`${name} exited ${run.code}: ${run.stderr.trim().slice(-500)}`);
    results.get(name)!.push(run);
  }
}
const kb = (bytes: number) => `${Math.round(bytes / 1024)} kB`;
const js = (dir: string) => readdirSync(join(root, dir)).filter((f) => /\.m?js$/.test(f)).reduce((n, f) => n + statSync(join(root, dir, f)).size, 0);
console.log(`median of ${runs} runs each, interleaved (${results.get(cases[0]![0])![0]!.method}):`);
for (const [name, rs] of results) {
  console.log(`  ${name}: ${median(rs.map((r) => r.wallS)).toFixed(2)} s wall, ${median(rs.map((r) => r.cpuS)).toFixed(2)} s CPU, ${Math.round(median(rs.map((r) => r.maxRssKb)) / 1024)} MB peak RSS`);
}
console.log(`code: dist/bin ${kb(js('dist/bin'))} in all (a command loads its own chunks); dist/lambda/index.mjs ${kb(statSync(join(root, 'dist/lambda/index.mjs')).size)}`);
