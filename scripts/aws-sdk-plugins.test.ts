import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain ES module build script, without type declarations
import { literalSchemaKeys } from './aws-sdk-plugins.mjs';

const rewrite = literalSchemaKeys as (source: string) => { text: string; rewritten: number };

describe('literalSchemaKeys', () => {
  it('writes computed keys of file-level string constants as the strings they hold', () => {
    const source = ['const _xN = "xmlName";', 'const _TSa = "TagSpecification";', 'export var A$ = [3, n0, _A, 0, [_TSa], [[L, { [_xN]: _TSa }]]];', 'var B = { a: 1, [_xN]: 2 };'].join('\n');
    const { text, rewritten } = rewrite(source);
    expect(rewritten).toBe(2);
    expect(text).toContain('[[L, { "xmlName": _TSa }]]');
    expect(text).toContain('{ a: 1, "xmlName": 2 }');
    // The rewritten module builds the same objects.
    const run = (code: string) => JSON.stringify(runInNewContext(`${code.replaceAll('export ', '')}; [A$, B]`, { n0: 'ns', _A: 'a', L: [] }));
    expect(run(text)).toBe(run(source));
  });

  it('leaves keys it cannot read, and what only looks like a key', () => {
    const source = [
      'const _a = "A";',
      'function f() { const _b = "B"; return { [_b]: 1 }; }',
      'const _c = "say \\"hi\\"";',
      'var x = { [_c]: 1, [_unknown]: 2 };',
      'var y = t ? o[_a]: 3;',
    ].join('\n');
    const { text, rewritten } = rewrite(source);
    expect(rewritten).toBe(0);
    expect(text).toBe(source);
  });
});
