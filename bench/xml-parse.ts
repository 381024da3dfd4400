/**
 * How much faster the bundles' XML parser (src/aws/xml-parser.ts) reads
 * EC2's answers than the AWS SDK's own, which it replaces there: a page of
 * 1,000 instances from DescribeInstances, as the sandbox answers it, parsed
 * by each in turn (interleaved, after a warm-up), with the median of each.
 *
 *   npx tsx bench/xml-parse.ts [--runs N]
 */
// @ts-expect-error -- the module the bundles replace, imported by path; it ships no declarations there
import { parseXML as sdkParseXML } from '@aws-sdk/xml-builder/dist-es/xml-parser.js';
import { parseXML } from '../src/aws/xml-parser.js';
import { instancesPage } from './support/instances-page.js';
import { median, runsOption } from './support/runs.js';

const runs = runsOption(15);

const page = await instancesPage();

const parsers = { sdk: sdkParseXML as (xml: string) => unknown, sgsync: parseXML };
const times: Record<keyof typeof parsers, number[]> = { sdk: [], sgsync: [] };
for (let i = 0; i < 3; i++) for (const parse of Object.values(parsers)) parse(page);
for (let i = 0; i < runs; i++) {
  for (const [name, parse] of Object.entries(parsers) as [keyof typeof parsers, (xml: string) => unknown][]) {
    const start = performance.now();
    parse(page);
    times[name].push(performance.now() - start);
  }
}
const sdk = median(times.sdk);
const ours = median(times.sgsync);
console.log(`DescribeInstances page of 1,000 instances (${(page.length / 1024 / 1024).toFixed(2)} MB), median of ${runs} runs each:`);
console.log(`  the SDK's parser: ${sdk.toFixed(1)} ms; sgsync's: ${ours.toFixed(1)} ms; ${(sdk / ours).toFixed(1)}× as fast`);
