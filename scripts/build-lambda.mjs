#!/usr/bin/env node
/**
 * Bundles the controller's Lambda handler (src/controller/lambda.ts) into one
 * ES module, dist/lambda/index.mjs (handler: index.handler), and zips it as
 * dist/lambda/sgsync-controller.zip, ready to upload.
 *
 *   node scripts/build-lambda.mjs [--config sgsync.yaml] [--outdir DIR] [--zip auto|cli|builtin]
 *
 * --config adds that file to the zip as sgsync.yaml, where the handler looks
 * when neither SGSYNC_CONFIG nor SGSYNC_CONFIG_YAML is set. --zip picks the
 * archiver: the `zip` program when present (auto), or the small writer below,
 * so the build needs nothing beyond Node and esbuild.
 *
 * The AWS SDK is bundled, not left to the runtime's copy: the runtime's SDK
 * changes when AWS updates it, while sgsync's retry settings, call counting
 * and error mapping are tested against the version in package-lock.json.
 */
import { Buffer } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import { sdkBundleOptions } from './aws-sdk-plugins.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (IEEE), as zip needs it; node:zlib has no crc32 before Node 22. */
export function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * A zip archive of `files` ({name, data}), deflated, with a fixed timestamp
 * (1980-01-01) so the same input gives the same bytes.
 */
export function zipFiles(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const { name, data } of files) {
    const nameBytes = Buffer.from(name, 'utf8');
    const packed = deflateRawSync(data, { level: 9 });
    const crc = crc32(data);
    const common = (h, at) => {
      h.writeUInt16LE(0x0800, at); // UTF-8 names
      h.writeUInt16LE(8, at + 2); // deflate
      h.writeUInt16LE(0, at + 4); // 00:00
      h.writeUInt16LE(0x21, at + 6); // 1980-01-01
      h.writeUInt32LE(crc, at + 8);
      h.writeUInt32LE(packed.length, at + 12);
      h.writeUInt32LE(data.length, at + 16);
      h.writeUInt16LE(nameBytes.length, at + 20);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    common(local, 6);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made on Unix, so the permissions below count
    central.writeUInt16LE(20, 6);
    common(central, 8);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, packed);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

function hasZipProgram() {
  return spawnSync('zip', ['-v'], { stdio: 'ignore' }).status === 0;
}

/**
 * The licences of the packages in a bundle, for shipping beside it: one
 * section per package esbuild took code from (name, version, the licence
 * its package.json declares, and its LICENSE, NOTICE or similar files), in
 * name order. Apache-2.0 and MIT both ask that the notice travel with copies.
 *
 * @param metafile esbuild's metafile of the build
 */
export function thirdPartyLicenses(metafile) {
  const packages = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    const at = input.lastIndexOf('node_modules/');
    if (at < 0) continue;
    const parts = input.slice(at + 'node_modules/'.length).split('/');
    const name = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
    packages.set(name, join(root, input.slice(0, at), 'node_modules', name));
  }
  const sections = [...packages].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, dir]) => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const notices = readdirSync(dir)
      .filter((f) => /^(licen[cs]e|notice|copying|copyrightnotice)/i.test(f))
      .sort()
      .map((f) => readFileSync(join(dir, f), 'utf8').trim());
    const licence = typeof pkg.license === 'string' ? pkg.license : 'not declared';
    return [`${name} ${pkg.version ?? ''} (${licence})`.trim(), ...(notices.length ? notices : ['(the package ships no licence file)'])].join('\n\n');
  });
  const rule = `\n\n${'-'.repeat(78)}\n\n`;
  return `The sgsync controller bundle (index.mjs) includes code from these packages.${rule}${sections.join(rule)}\n`;
}

function size(file) {
  const bytes = statSync(file).size;
  return bytes > 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MB` : `${(bytes / 1024).toFixed(1)} kB`;
}

async function main() {
  const { values } = parseArgs({
    options: { config: { type: 'string' }, outdir: { type: 'string' }, zip: { type: 'string', default: 'auto' } },
  });
  if (!['auto', 'cli', 'builtin'].includes(values.zip)) throw new Error(`--zip must be auto, cli or builtin, not "${values.zip}"`);
  const outdir = resolve(root, values.outdir ?? 'dist/lambda');
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const bundle = join(outdir, 'index.mjs');

  const { metafile } = await build({
    entryPoints: [join(root, 'src/controller/lambda.ts')],
    outfile: bundle,
    // Only the EC2 schemas the handler uses, and a faster XML parser (see aws-sdk-plugins.mjs).
    ...sdkBundleOptions,
    minify: true,
    keepNames: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
    metafile: true,
  });

  // The licences of the bundled packages travel with the code, and any notices esbuild found in comments.
  const licences = join(outdir, 'THIRD-PARTY-LICENSES.txt');
  writeFileSync(licences, thirdPartyLicenses(metafile));
  const files = [bundle, licences, join(outdir, 'index.mjs.LEGAL.txt')].filter((f) => existsSync(f));
  if (values.config) {
    const config = join(outdir, 'sgsync.yaml');
    copyFileSync(resolve(values.config), config);
    files.push(config);
  }
  const zip = join(outdir, 'sgsync-controller.zip');
  const useCli = values.zip === 'cli' || (values.zip === 'auto' && hasZipProgram());
  if (useCli) {
    const out = spawnSync('zip', ['-q', '-X', '-j', zip, ...files], { stdio: 'inherit' });
    if (out.status !== 0) throw new Error(`zip failed with status ${out.status ?? out.signal}`);
  } else {
    writeFileSync(zip, zipFiles(files.map((f) => ({ name: basename(f), data: readFileSync(f) }))));
  }
  process.stdout.write(
    `${bundle}  ${size(bundle)}\n${zip}  ${size(zip)}  (${useCli ? 'zip' : 'built-in writer'}: ${files.map((f) => basename(f)).join(', ')})\n`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`build-lambda: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
