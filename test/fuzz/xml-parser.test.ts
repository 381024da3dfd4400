/**
 * sgsync's XML parser (src/aws/xml-parser.ts), which the bundles use in place
 * of the AWS SDK's, against the SDK's own copy of the module it replaces: for
 * the sandbox's answers and for random, garbled and hostile documents, both
 * give the same tree (same keys, same order) or throw the same message.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- the module the bundles replace, imported by path; it ships no declarations there
import { parseXML as sdkParseXML } from '@aws-sdk/xml-builder/dist-es/xml-parser.js';
import { parseXML } from '../../src/aws/xml-parser.js';
import { handleEc2 } from '../../src/sandbox/ec2-endpoint.js';
import { Sandbox } from '../../src/sandbox/sandbox.js';

const sdk = sdkParseXML as (xml: string) => unknown;

/** What a parser made of `xml`: the tree, keys in order, or the message it threw. */
function outcome(parse: (xml: string) => unknown, xml: string): string {
  try {
    return `tree ${JSON.stringify(parse(xml))}`;
  } catch (e) {
    return `error ${(e as Error).message}`;
  }
}

function same(xml: string): void {
  expect(outcome(parseXML, xml)).toBe(outcome(sdk, xml));
}

const name = fc.oneof(
  fc.constantFrom('item', 'instanceId', 'tagSet', 'value', '__proto__', 'constructor', 'toString', '#text', 'x:y', 'a.b-c', 'İ', 'a\u00a0', '\u2028b', ''),
  fc.stringMatching(/^[A-Za-z_][\w.:-]{0,6}$/),
);
const textPiece = fc.oneof(
  fc.constantFrom('&amp;', '&lt;', '&gt;', '&quot;', '&apos;', '&#x41;', '&#65;', '&#x1F600;', '&#1114112;', '&bogus;', '&constructor;', '&__proto__;', '&', ';'),
  fc.constantFrom(' ', '\n', '\r\n', '\r', '\t', '  \n  ', ']]>', '>', '"', "'", '=', '/', '?', 'İ', 'Σ', '\u00a0'),
  fc.string({ maxLength: 6 }),
);
const text = fc.array(textPiece, { maxLength: 6 }).map((parts) => parts.join('').replaceAll('<', ''));
const attribute = fc
  .tuple(name, fc.constantFrom('"', "'"), text, fc.constantFrom('', ' ', '\n'))
  .map(([n, q, v, ws]) => `${ws} ${n}${ws}=${ws}${q}${v.replaceAll(q, '')}${q}`);

const { element } = fc.letrec<{ element: string; node: string }>((tie) => ({
  element: fc
    .tuple(name, fc.array(attribute, { maxLength: 3 }), fc.array(tie('node'), { maxLength: 5 }), fc.boolean(), fc.constantFrom('', ' ', '\n'), fc.option(name, { freq: 8 }))
    .map(([n, attrs, children, selfClosing, ws, closeAs]) =>
      selfClosing ? `<${n}${attrs.join('')}${ws}/>` : `<${n}${attrs.join('')}${ws}>${children.join('')}</${ws}${closeAs ?? n}${ws}>`,
    ),
  // Past four levels, only the first choice (text) is taken: the trees stay finite.
  node: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'xml' },
    { arbitrary: text, weight: 3 },
    fc.constantFrom('<![CDATA[a<b>&amp;]]>', '<![CDATA[]]>', '<!-- note -->', '<?pi x?>', '\n  '),
    { arbitrary: tie('element'), weight: 3 },
  ),
}));

const prolog = fc.array(fc.constantFrom('<?xml version="1.0" encoding="UTF-8"?>', '<!-- c -->', '<!DOCTYPE r [<!ENTITY e "x">]>', '<!doctype html>', '\n', ' ', '<?pi?>'), { maxLength: 3 });
const documents = fc.tuple(prolog, element, fc.constantFrom('', '\n', ' trailing', '<extra/>')).map(([p, root, tail]) => `${p.join('')}${root}${tail}`);

describe('the bundles\' XML parser', () => {
  it('reads every answer of the sandbox as the SDK\'s parser does', async () => {
    const sandbox = new Sandbox({ seed: 7 });
    const auth = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-west-1/ec2/aws4_request, SignedHeaders=host, Signature=0';
    const ask = async (params: Record<string, string>) => {
      const answer = await handleEc2(sandbox, new URLSearchParams({ Version: '2016-11-15', ...params }).toString(), auth);
      if (!('body' in answer)) throw new Error('the sandbox dropped the call');
      return answer.body;
    };
    const bodies = [
      await ask({
        Action: 'RunInstances', ImageId: 'ami-12345678', MinCount: '3', MaxCount: '3',
        'TagSpecification.1.ResourceType': 'instance', 'TagSpecification.1.Tag.1.Key': 'Name', 'TagSpecification.1.Tag.1.Value': 'web & <api> "1"\r\n\'2\'',
      }),
      await ask({ Action: 'DescribeInstances' }),
      await ask({ Action: 'DescribeRegions' }),
      await ask({ Action: 'DescribeSecurityGroups' }),
      await ask({ Action: 'DescribeSecurityGroupRules' }),
      await ask({ Action: 'DescribeSecurityGroupRules', 'Filter.1.Name': 'group-id', 'Filter.1.Value.1': 'sg-nope' }),
      await ask({ Action: 'NoSuchAction' }),
    ];
    expect(bodies.join('')).toContain('web &amp; &lt;api&gt;');
    for (const body of bodies) {
      same(body);
      expect(outcome(parseXML, body)).toMatch(/^tree /);
    }
  });

  it('builds the same tree from random documents, or fails with the same message', () => {
    fc.assert(fc.property(documents, same), { numRuns: 3000 });
  });

  it('agrees on documents cut short or with a character changed', () => {
    const garbled = fc.tuple(documents, fc.nat(), fc.string({ maxLength: 2 }), fc.boolean()).map(([doc, at, insert, cut]) => {
      const k = doc.length === 0 ? 0 : at % doc.length;
      return cut ? doc.slice(0, k) : doc.slice(0, k) + insert + doc.slice(k + 1);
    });
    fc.assert(fc.property(garbled, same), { numRuns: 3000 });
  });

  it('agrees on arbitrary text, and on the odd corners', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), same), { numRuns: 2000 });
    for (const xml of [
      '', '   ', 'text', '<', '<a', '<a ', '<a x', '<a x=', '<a x="1', '<a x="1"', '<a/', '<a/x', '<a>', '<a></b>', '<a></a >', '<a></ a>',
      '<a x=y>1</a>', '<a =\'v\'/>', '<a __proto__="p"><__proto__>c</__proto__></a>', '<a><b>1</b><b>2</b><b>3</b></a>',
      '<a>&constructor;&toString;&hasOwnProperty;</a>', '<a>\n \n</a>', '<a> </a>', '<a>\n<b/>\n</a>', '<a>x<!-- c -->y<![CDATA[z]]></a>',
      '<!DOCTYPE a [ <!ELEMENT a ANY> ]><a/>', '<!DOCTYPE a [', '<?xml?>', '<!-- c', '<?pi', '<a><![CDATA[x</a>',
      '<!-- İ --><!DOCTYPE a><a/>', '<?İ?><!DOCTYPE a><a/>', '<!-- İİ --><!doctype a><a>1</a>', '\r\n<a>\r\nx\r</a>',
    ]) same(xml);
  });
});
