import { describe, expect, it } from 'vitest';
import type { FleetView } from '../dashboard/fleet-view.js';
import { csvField, inventoryNotes } from './inventory.js';
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
    ['a\tb', '"a\tb"'],
    ['x\u001b[2J\u001b]52;c;eA==\u0007\r\u202ey', '"x?[2J?]52;c;eA==???y"'],
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

describe('notes below the inventory', () => {
  it('name a pool group that does not exist, and say when the groups could not be checked', () => {
    const message = 'Security group sg-1 (targets[0].groups[0] in sgsync.yaml) does not exist in us-east-1; nothing is placed in it.';
    const view = {
      report: { errors: [{ code: 'NOT_FOUND', message }] },
      groupCheck: { missing: [], unchecked: [{ region: 'eu-west-1', code: 'PERMISSION_DENIED', reason: 'denied' }] },
    } as unknown as FleetView;
    expect(inventoryNotes(view)).toEqual([message, expect.stringMatching(/^Could not check that the pool groups exist in eu-west-1/)]);
    expect(inventoryNotes({} as FleetView)).toEqual([]);
  });
});
