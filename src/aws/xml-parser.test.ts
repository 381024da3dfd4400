import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Parses an answer made large by a comment, keeps only its values, and
 * prints how much the heap grew, in a Node process of its own: inside the
 * test runner the heap holds on to large strings for reasons of its own.
 */
const MEASURE = `
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseXML } from ${JSON.stringify(fileURLToPath(new URL('./xml-parser.ts', import.meta.url)))};
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const heap = () => (gc(), process.memoryUsage().heapUsed);
const filler = 40 * 2 ** 20;
const before = heap();
const values = parseXML(
  '<a><id>i-0123456789abcdef0</id><name>a &amp; b</name><data><![CDATA[sgsync prod/api i-0123456789abcdef0 eu-west-1]]></data>' +
    '<rule id="sgr-0123456789abcdef0"/><!-- ' + 'x'.repeat(filler) + ' --></a>',
).a;
console.log(JSON.stringify({ values, filler, grown: heap() - before }));
`;

describe('parseXML', () => {
  it('gives values that do not keep the answer they were cut from alive', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', MEASURE], { encoding: 'utf8' });
    const { values, filler, grown } = JSON.parse(out) as { values: unknown; filler: number; grown: number };
    expect(values).toEqual({ id: 'i-0123456789abcdef0', name: 'a & b', data: 'sgsync prod/api i-0123456789abcdef0 eu-west-1', rule: { id: 'sgr-0123456789abcdef0' } });
    // Were the values views into the answer, its 40 MB would still be in the heap.
    expect(grown).toBeLessThan(filler / 4);
  });
});
