import { describe, expect, it } from 'vitest';
import { isSgsyncError } from '../core/errors.js';
import { systemdUnit, unitName } from './systemd-unit.js';

/** The values of one key of the unit, as systemd reads the lines. */
const values = (unit: string, key: string) => unit.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));

/** What systemd makes of a value once it has expanded its specifiers (only `%%` here, the one a literal `%` needs). */
const unescaped = (value: string) => value.replace(/%(.)/g, (all, c: string) => (c === '%' ? '%' : `<specifier ${all}>`));

describe('the systemd unit', () => {
  it.each([
    ['api', 'api.service'],
    ['nginx.service', 'nginx.service'],
    ['app.target', 'app.target'],
    ['var-lib-data.mount', 'var-lib-data.mount'],
    ['my.api', 'my.api.service'],
    ['worker@2', 'worker@2.service'],
    ['getty@tty1.service', 'getty@tty1.service'],
    ['a:b_c-d', 'a:b_c-d.service'],
  ])('orders itself before %s as %s', (given, unit) => {
    expect(unitName(given)).toBe(unit);
    expect(values(systemdUnit({ before: [given] }), 'Before')).toEqual([unit]);
  });

  it.each([['foo/bar'], [''], ['@x'], ['worker@'], ['worker@.service'], ['api.service/x'], ['ñginx'], ['a%b'], ['x'.repeat(248)]])('refuses --before %j, which systemd would ignore, as a usage error', (given) => {
    let error: unknown;
    try {
      systemdUnit({ before: [given] });
    } catch (e) {
      error = e;
    }
    expect(isSgsyncError(error) && error.code).toBe('USAGE');
    expect((error as Error).message).toContain(`--before ${JSON.stringify(given)} is not a systemd unit name`);
  });

  it('takes the longest name systemd does', () => {
    expect(unitName('x'.repeat(247))).toHaveLength(255);
  });

  it.each([['/bin/tr%ue', '/etc/a%Z.yaml'], ['/opt/100%/sgsync', '/etc/%%h.yaml']])('writes %s and %s so that systemd reads them as they are, not as specifiers', (binary, configPath) => {
    const unit = systemdUnit({ binary, configPath });
    expect(values(unit, 'ExecStart').map(unescaped)).toEqual([`${binary} agent watch --notify-systemd`]);
    expect(values(unit, 'Environment').map(unescaped)).toContain(`SGSYNC_CONFIG=${configPath}`);
  });
});
