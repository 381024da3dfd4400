import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isValidDescription, ruleDescription, sanitizeDescription } from './description.js';

describe('rule descriptions', () => {
  it('name the deployment, target, instance and region', () => {
    expect(ruleDescription('prod', { target: 'api', instanceId: 'i-0abc123', memberRegion: 'eu-west-1' })).toBe('sgsync prod/api i-0abc123 eu-west-1');
  });

  it.each([
    ['plain text stays', 'web tier (blue) #1', 'web tier (blue) #1'],
    ['every allowed punctuation stays', '._-:/()#,@[]+=&;{}!$*', '._-:/()#,@[]+=&;{}!$*'],
    ['quotes and angle brackets are replaced', 'a"b<c>\'d', 'a_b_c__d'],
    ['non-ASCII letters are replaced', 'café', 'caf_'],
    ['an emoji becomes one character', 'ok🚀', 'ok_'],
    ['control characters are replaced', 'a\nb\tc', 'a_b_c'],
    ['text of nothing but refused characters is replaced whole', 'ü"<', '___'],
  ])('%s', (_case, input, output) => {
    expect(sanitizeDescription(input)).toBe(output);
  });

  it('are cut to 255 characters', () => {
    expect(sanitizeDescription('x'.repeat(400))).toHaveLength(255);
    expect(ruleDescription('d'.repeat(300), { target: 't', instanceId: 'i-1', memberRegion: 'r' })).toHaveLength(255);
  });

  it('are always accepted by EC2, whatever the names they are built from', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.string(), (deployment, target) => {
        const description = ruleDescription(deployment, { target, instanceId: 'i-1', memberRegion: 'eu-west-1' });
        expect(isValidDescription(description)).toBe(true);
        expect(description.length).toBeLessThanOrEqual(255);
      }),
    );
  });
});
