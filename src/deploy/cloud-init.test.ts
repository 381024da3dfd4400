import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isSgsyncError } from '../core/errors.js';
import { cloudInit, packageOf } from './cloud-init.js';
import { systemdUnit } from './systemd-unit.js';

describe('the package cloud-init installs', () => {
  it.each([
    [undefined, 'sgsync'],
    ['1.2.3', 'sgsync@1.2.3'],
    ['^1.2', 'sgsync@^1.2'],
    ['v1.2.3', 'sgsync@v1.2.3'],
    ['sgsync@1.2.3', 'sgsync@1.2.3'],
    ['@acme/sgsync@2.0.0', '@acme/sgsync@2.0.0'],
    ['https://npm.example.com/sgsync/-/sgsync-1.2.3.tgz', 'https://npm.example.com/sgsync/-/sgsync-1.2.3.tgz'],
  ])('%s installs %s', (spec, pkg) => {
    expect(packageOf(spec)).toBe(pkg);
    expect(cloudInit({ config: 'deployment: x\n', packageSpec: spec })).toContain(`npm install --global --omit=dev ${pkg} &&`);
  });

  it.each(['', 'sgsync@1.0 ; rm -rf /', 'sgsync && curl x', '>=1.2', 'a|b', '$(id)', 'sgsync 1.2'])('refuses %j as a usage error', (spec) => {
    let error: unknown;
    try {
      packageOf(spec);
    } catch (e) {
      error = e;
    }
    expect(isSgsyncError(error) && error.code).toBe('USAGE');
  });

  it('writes a command line the shell reads as the one install and link it means', () => {
    const runcmd = cloudInit({ config: 'deployment: x\n', packageSpec: '~1.2.3' }).split('\n').find((l) => l.includes('npm install'))!;
    const command = JSON.parse(runcmd.replace(/^ {2}- \[sh, -c, /, '').replace(/\]$/, '')) as string;
    expect(execFileSync('sh', ['-c', `set -- ${command.replace(/ && .*/, '')}; printf '%s|' "$@"`], { encoding: 'utf8' })).toBe('npm|install|--global|--omit=dev|sgsync@~1.2.3|');
  });
});

describe('the systemd unit', () => {
  it.each([['my api'], ['/opt/x;rm'], ['$HOME/sgsync']])('refuses %j as a usage error', (name) => {
    let error: unknown;
    try {
      systemdUnit({ before: [name] });
    } catch (e) {
      error = e;
    }
    expect(isSgsyncError(error) && error.code).toBe('USAGE');
  });
});
