import { describe, expect, it } from 'vitest';
import { csvField } from './inventory.js';
import { bar } from './status.js';

describe('CSV fields', () => {
  it.each([
    ['web-1', '"web-1"'],
    ['say "hi"', '"say ""hi"""'],
    ['a,b\nc', '"a,b\nc"'],
    ['=HYPERLINK("http://x")', '"\'=HYPERLINK(""http://x"")"'],
    ['+1', '"\'+1"'],
    ['-2+3', '"\'-2+3"'],
    ['@SUM(A1)', '"\'@SUM(A1)"'],
    ['\tcmd', '"\'\tcmd"'],
    [undefined, '""'],
  ])('writes %j as %s', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });
});

describe('usage bars', () => {
  it.each([
    [0, 60, '[....................]'],
    [30, 60, '[##########..........]'],
    [60, 60, '[####################]'],
    [75, 60, '[####################]'],
  ])('shows %i of %i as %s', (used, quota, expected) => {
    expect(bar(used, quota)).toBe(expected);
  });
});
