/**
 * esbuild plugins for bundling the AWS SDK into sgsync's CLI and Lambda
 * bundles: one lets esbuild drop the schemas of actions sgsync never calls,
 * the other puts sgsync's faster copy of the SDK's XML parser in its place.
 *
 * Schemas. `@aws-sdk/client-ec2` describes every shape of every EC2 action
 * in one module (dist-es/schemas/schemas_0.js, 1.3 MB). Its object literals
 * use computed keys of file-level string constants, `{ [_xN]: _TSa }`.
 * esbuild cannot prove such a key free of side effects, so it keeps each of
 * those statements, and through them nearly the whole module: some 800 kB
 * that Node compiles on every start of sgsync, which uses eight actions. The
 * plugin rewrites each such key to the string the constant holds,
 * `{ "xmlName": _TSa }`, which is the same object; esbuild then keeps only
 * the schemas the bundled commands reach. Keys whose constant it cannot read
 * are left as they are, which costs size, never behaviour.
 *
 * XML. `@aws-sdk/xml-builder` parses every response one character at a time;
 * src/aws/xml-parser.ts gives the same trees and errors (held to the SDK's
 * copy by test/fuzz/xml-parser.test.ts) in a fraction of the time.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath, URL } from 'node:url';

/** The SDK clients' schema modules, with either path separator. */
const SCHEMA_MODULE = /[\\/]@aws-sdk[\\/][^\\/]+[\\/]dist-es[\\/]schemas[\\/][^\\/]+\.js$/;

/**
 * `source` with every computed key `[_name]:` that follows `{` or `,`, where
 * `_name` is a file-level `const _name = "text";`, written as `"text":`.
 * Returns the text and how many keys were rewritten.
 */
export function literalSchemaKeys(source) {
  const constants = new Map();
  for (const m of source.matchAll(/^const (_\w+) = ("[^"\\\n]*");$/gm)) constants.set(m[1], m[2]);
  let rewritten = 0;
  const text = source.replace(/([{,]\s*)\[(_\w+)\]:/g, (all, before, name) => {
    const literal = constants.get(name);
    if (literal === undefined) return all;
    rewritten++;
    return `${before}${literal}:`;
  });
  return { text, rewritten };
}

/** Loads the SDK's schema modules through `literalSchemaKeys`. */
export const awsSchemasPlugin = {
  name: 'sgsync-aws-schemas',
  setup(build) {
    build.onLoad({ filter: SCHEMA_MODULE }, async (args) => ({
      contents: literalSchemaKeys(await readFile(args.path, 'utf8')).text,
      loader: 'js',
    }));
  },
};

/** sgsync's copy of the SDK's XML parser. */
export const XML_PARSER = fileURLToPath(new URL('../src/aws/xml-parser.ts', import.meta.url));

/** Resolves `@aws-sdk/xml-builder`'s import of its parser (`./xml-parser`) to sgsync's copy. */
export const awsXmlParserPlugin = {
  name: 'sgsync-aws-xml-parser',
  setup(build) {
    build.onResolve({ filter: /^\.\/xml-parser(\.js)?$/ }, (args) =>
      /[\\/]@aws-sdk[\\/]xml-builder[\\/]dist-es[\\/]/.test(args.importer) ? { path: XML_PARSER } : undefined,
    );
  },
};

/** Both, for `plugins` in esbuild's options. */
export const awsSdkPlugins = [awsSchemasPlugin, awsXmlParserPlugin];

/**
 * The esbuild options every bundle of sgsync and the SDK shares: one ES
 * module for Node 20, built from the SDK's ES modules (which esbuild can trim
 * to the actions used; its CommonJS build is one file per package, kept
 * whole), with both plugins, and a `require` for the bundled CommonJS
 * dependencies that call it for Node's built-ins (an ES module has none).
 */
export const sdkBundleOptions = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  mainFields: ['module', 'main'],
  plugins: awsSdkPlugins,
  banner: { js: "import { createRequire as __sgsyncCreateRequire } from 'node:module'; const require = __sgsyncCreateRequire(import.meta.url);" },
};
