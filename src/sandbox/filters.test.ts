import { describe, expect, it } from 'vitest';
import { wildcardMatch } from './filters.js';

describe('wildcardMatch', () => {
  it('reads * and ? as wildcards', () => {
    expect(wildcardMatch('web-*', 'web-1')).toBe(true);
    expect(wildcardMatch('web-*', 'web-')).toBe(true);
    expect(wildcardMatch('web-?', 'web-12')).toBe(false);
    expect(wildcardMatch('w?b', 'w.b')).toBe(true);
    expect(wildcardMatch('a.b', 'axb')).toBe(false);
  });

  it('reads a backslash as making the next character literal, as EC2 documents (\\*amazon\\?\\\\ is *amazon?\\)', () => {
    expect(wildcardMatch('\\*amazon\\?\\\\', '*amazon?\\')).toBe(true);
    expect(wildcardMatch('\\*amazon\\?\\\\', 'xamazon?\\')).toBe(false);
    expect(wildcardMatch('a\\b', 'ab')).toBe(true);
    expect(wildcardMatch('a\\b', 'a\\b')).toBe(false);
    expect(wildcardMatch('end\\', 'end\\')).toBe(true);
  });
});
