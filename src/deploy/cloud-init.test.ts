import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isSgsyncError } from '../core/errors.js';
import { cloudInit, literalBlock, packageOf } from './cloud-init.js';
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

/** What cloud-init would write: each write_files entry's content, by path. */
function writtenFiles(userData: string): Record<string, string> {
  const doc = parse(userData) as { write_files: { path: string; content: string }[] };
  return Object.fromEntries(doc.write_files.map((f) => [f.path, f.content]));
}

describe('the files cloud-init writes', () => {
  it.each([
    ['a first line indented further than the rest', '  # the api target\ndeployment: x\ntargets:\n  - name: api\n    region: us-east-1\n'],
    ['a first line that is empty', '\n    # spaced out\ndeployment: x\n'],
    ['no final newline', 'deployment: x\n  # last'],
    ['blank lines at the end', 'deployment: x\n\n\n'],
    ['lines of spaces and tabs', 'deployment: x\n   \n\t# tab\n      \ntargets: []\n'],
    ['nothing at all', ''],
  ])('hold the configuration exactly, with %s', (_what, config) => {
    const files = writtenFiles(cloudInit({ config }));
    expect(files['/etc/sgsync/sgsync.yaml']).toBe(config);
    expect(files['/etc/systemd/system/sgsync-agent.service']).toBe(systemdUnit({}));
  });

  it('hold any text of lines exactly', () => {
    const line = fc.stringMatching(/^[ \t]{0,8}[-a-z0-9#:|>'" ]{0,12}$/);
    // Text of blanks alone is no configuration, and the yaml package reads such a block as '' where the spec (and cloud-init's PyYAML) keep the blanks;
    // it also drops a last line of blanks with no newline after it (" '\n " reads back as " '"), which PyYAML keeps.
    const text = fc
      .array(line, { maxLength: 8 })
      .map((lines) => lines.join('\n'))
      .filter((t) => (t === '' || /\S/.test(t)) && !/\n[ \t]+$/.test(t));
    fc.assert(
      fc.property(text, (config) => {
        expect(writtenFiles(cloudInit({ config }))['/etc/sgsync/sgsync.yaml']).toBe(config);
      }),
    );
  });

  it('say the indentation in the header, so the first line does not set it', () => {
    expect(literalBlock('  # note\nx: 1\n', 4)).toEqual({ header: '|2', lines: ['        # note', '      x: 1'] });
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
