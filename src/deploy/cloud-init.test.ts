import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isSgsyncError } from '../core/errors.js';
import { cloudInit, literalBlock, literalSafe, packageOf, shellWord } from './cloud-init.js';
import { systemdUnit } from './systemd-unit.js';

/** What PyYAML, cloud-init's parser, reads: anything else in the document makes it refuse the whole of it. */
const PYYAML_PRINTABLE = /^[\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

type UserData = { write_files: { path: string; content: string; encoding?: string }[]; runcmd: unknown[][] } & Record<string, unknown>;

/**
 * The user data, read as cloud-init reads it: PyYAML (YAML 1.1) refuses a
 * character outside its printable set, and ends a line at CR, U+0085, U+2028
 * and U+2029 as at LF, where YAML 1.2 (the yaml package) goes on.
 */
function userDataOf(text: string): UserData {
  expect(text).toMatch(PYYAML_PRINTABLE);
  return parse(text.replace(/\r\n?|[\x85\u2028\u2029]/g, '\n')) as UserData;
}

/**
 * The commands the install line of the user data runs, each as its words, as
 * the shell reads them: the line is run with `npm` and `ln` written down
 * instead of run (`npm root -g` answers /usr/lib/node_modules).
 */
function installCommands(userData: string): string[][] {
  const install = userDataOf(userData).runcmd[1]!;
  expect(install.slice(0, 2)).toEqual(['sh', '-c']);
  const record = (name: string) => `printf '%s' ${name}; printf '\\037%s' "$@"; printf '\\n'`;
  const stubs = `npm() { if [ "$1" = root ]; then echo /usr/lib/node_modules; else ${record('npm')}; fi; }; ln() { ${record('ln')}; };`;
  const out = execFileSync('sh', ['-c', `${stubs} ${install[2] as string}`], { encoding: 'utf8' });
  return out.split('\n').slice(0, -1).map((line) => line.split('\x1f'));
}

/** The arguments `ln` is run with by the user data. */
const linkArguments = (userData: string) => installCommands(userData).find((c) => c[0] === 'ln')!.slice(1);

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
    expect(installCommands(cloudInit({ config: 'deployment: x\n', packageSpec: spec }))[0]).toEqual(['npm', 'install', '--global', '--omit=dev', pkg]);
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

describe('the Node.js setup command', () => {
  it('is run as given, whatever characters it holds, line breaks of YAML 1.1 and controls among them', () => {
    const command = fc.string({ unit: 'binary', maxLength: 24 });
    fc.assert(
      fc.property(command, (nodeSetup) => {
        const userData = cloudInit({ config: 'deployment: x\n', nodeSetup });
        expect(Object.keys(userDataOf(userData)).sort()).toEqual(['runcmd', 'write_files']);
        expect(userDataOf(userData).runcmd[0]).toEqual(['sh', '-c', nodeSetup]);
      }),
      { numRuns: 300 },
    );
    const nodeSetup = `echo ok${LS}bootcmd: [id]\u0085\r\u001b[2J`;
    expect(cloudInit({ config: 'deployment: x\n', nodeSetup })).toContain('  - [sh, -c, "echo ok\\u2028bootcmd: [id]\\u0085\\r\\u001b[2J"]\n');
  });
});

/** What cloud-init would write: each write_files entry's content, by path, decoded as its `encoding` says. */
function writtenFiles(userData: string): Record<string, string> {
  const doc = userDataOf(userData);
  expect(Object.keys(doc).sort()).toEqual(['runcmd', 'write_files']);
  return Object.fromEntries(doc.write_files.map((f) => [f.path, f.encoding === 'b64' ? Buffer.from(f.content, 'base64').toString('utf8') : f.content]));
}

/** The sgsync.yaml of the demo, with a comment that holds a line separator and, after it, keys for the top of the user data. */
const LS = '\u2028';
const U2028_CONFIG =
  'deployment: demo\n' +
  'targets:\n  - name: api\n    region: us-east-1\n    groups: [sg-0f1d6bc2ae7e7600f]\n    ports: [443]\n' +
  '    members: {tags: {role: worker}}\n' +
  `# reviewed by ops${LS}bootcmd:${LS}  - [sh, -c, "id > /tmp/pwned-by-user-data"]${LS}x-notes:\n`;

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

  it.each([
    ['U+2028 (LINE SEPARATOR)', LS],
    ['U+2029 (PARAGRAPH SEPARATOR)', '\u2029'],
    ['U+0085 (NEXT LINE)', '\u0085'],
    ['a CR', '\r'],
  ])('keep a configuration whose line holds %s to its file, where it cannot add keys to the user data (bootcmd: root commands at boot)', (_what, breaker) => {
    const config = U2028_CONFIG.replaceAll(LS, breaker);
    const userData = cloudInit({ config });
    expect(Object.keys(userDataOf(userData)).sort()).toEqual(['runcmd', 'write_files']);
    expect(userData).not.toMatch(/^bootcmd/m);
    expect(writtenFiles(userData)['/etc/sgsync/sgsync.yaml']).toBe(config);
    expect(userDataOf(userData).write_files[0]).toMatchObject({ path: '/etc/sgsync/sgsync.yaml', permissions: '0644', encoding: 'b64' });
  });

  it.each([
    ['an ESC', 'x: "\u001b[2J"\n'],
    ['a NUL', 'x: a\u0000b\n'],
    ['a DEL', 'x: a\u007fb\n'],
    ['a C1 control', 'x: a\u009bb\n'],
    ['a noncharacter', 'x: a\ufffeb\n'],
  ])('write a configuration with %s, which cloud-init would refuse in a block, base64-encoded', (_what, config) => {
    const userData = cloudInit({ config });
    expect(writtenFiles(userData)['/etc/sgsync/sgsync.yaml']).toBe(config);
    expect(userDataOf(userData).write_files[0]!.encoding).toBe('b64');
  });

  it('write a configuration cloud-init reads as it is as a block, readable in the user data', () => {
    const config = 'deployment: x\n# été, 中文, 😀, a\u00a0space\ttab\n';
    const userData = cloudInit({ config });
    expect(userData).toContain('    content: |2\n      deployment: x\n      # été, 中文, 😀, a\u00a0space\ttab\n');
    expect(userData).not.toContain('encoding');
    expect(literalSafe(config)).toBe(true);
  });

  const codePoint = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

  it.each(['\t', '\n', ' ', '~', '\u00a0', '\ud7ff', '\ue000', '\ufeff', '\ufffd', '\u{10000}', '\u{10ffff}', '\u2027', '\u202a'].map((c) => [codePoint(c), c]))(
    'take %s as a character cloud-init reads as itself in a block',
    (_name, c) => {
      expect(literalSafe(`a${c}b`)).toBe(true);
    },
  );

  it.each(['\r', '\u0085', '\u2028', '\u2029', '\u0000', '\u001b', '\u001f', '\u007f', '\u0080', '\u009f', '\ufffe', '\uffff', '\ud800'].map((c) => [codePoint(c), c]))('take %s as one it does not', (_name, c) => {
    expect(literalSafe(`a${c}b`)).toBe(false);
  });

  it('hold any text of lines exactly', () => {
    // Line breaks of YAML 1.1 that YAML 1.2 reads as text (CR too), and characters PyYAML refuses; then text it reads as it is.
    const unreadable = ['\r', '\u0085', '\u2028', '\u2029', '\u0000', '\u001b', '\u007f', '\u009b', '\ufffe'];
    const lineChar = fc.constantFrom(...'-abkxyz0189#:|>\'" ', ...unreadable, 'é', '\u00a0', '中', '😀');
    const line = fc.tuple(fc.stringMatching(/^[ \t]{0,8}$/), fc.array(lineChar, { maxLength: 12 })).map(([indent, chars]) => indent + chars.join(''));
    // Text of blanks alone is no configuration, and the yaml package reads such a block as '' where the spec (and cloud-init's PyYAML) keep the blanks;
    // it also drops a last line of blanks with no newline after it (" '\n " reads back as " '"), which PyYAML keeps, and, in a block whose
    // header gives the indentation (the first line is indented), the lines of blanks at its end (" a\n \n" reads back as " a\n"; PyYAML: " a\n \n").
    const text = fc
      .array(line, { maxLength: 8 })
      .map((lines) => lines.join('\n'))
      .filter((t) => (t === '' || /\S/.test(t)) && !/\n[ \t]+$/.test(t) && !(/^[ \t]/.test(t) && /\n[ \t]+\n[ \t\n]*$/.test(t)));
    fc.assert(
      fc.property(text, (config) => {
        const userData = cloudInit({ config });
        expect(writtenFiles(userData)['/etc/sgsync/sgsync.yaml']).toBe(config);
        // Base64 only where a block would not do: the file stays readable in the user data otherwise.
        expect(userDataOf(userData).write_files[0]!.encoding).toBe(unreadable.some((c) => config.includes(c)) ? 'b64' : undefined);
      }),
      { numRuns: 500 },
    );
  });

  it('say the indentation in the header, so the first line does not set it', () => {
    expect(literalBlock('  # note\nx: 1\n', 4)).toEqual({ header: '|2', lines: ['        # note', '      x: 1'] });
  });
});

/** The value of one key of a unit, as systemd reads it once it has expanded the `%%` a literal `%` needs. */
const unitValues = (unit: string, key: string) =>
  unit
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1).replaceAll('%%', '%'));

/** Absolute paths of characters a unit takes as they are, shell and YAML indicators among them. */
const unitPath = fc
  .array(fc.constantFrom(...'/aZ09_-.+@%,=:~#!^&|<>()*?[]{}é中😀'), { minLength: 1, maxLength: 16 })
  .map((chars) => `/${chars.join('')}`);

describe('the paths cloud-init writes', () => {
  it.each([
    ['/opt/a&b/sgsync', '/etc/sgsync:'],
    ['/opt/x|y', '/etc/#sgsync.yaml'],
    ['/opt/*', '/etc/{a,b}.yaml'],
    ['/opt/~/sgsync', '/etc/[x].yaml:x'],
    ['/opt/(x)<y>', '/etc/!x%h.yaml'],
  ])('link %s and write %s as exactly those paths', (binary, configPath) => {
    const userData = cloudInit({ config: 'deployment: x\n', binary, configPath });
    expect(linkArguments(userData)).toEqual(['-sf', '/usr/lib/node_modules/sgsync/dist/bin/sgsync.js', binary]);
    expect(userDataOf(userData).write_files.map((f) => f.path)).toEqual([configPath, '/etc/systemd/system/sgsync-agent.service']);
  });

  it('are any path the unit takes, read back exactly by the shell, by YAML and by systemd', () => {
    fc.assert(
      fc.property(unitPath, unitPath, (binary, configPath) => {
        const userData = cloudInit({ config: 'deployment: x\n', binary, configPath });
        expect(linkArguments(userData)).toEqual(['-sf', '/usr/lib/node_modules/sgsync/dist/bin/sgsync.js', binary]);
        const files = writtenFiles(userData);
        expect(Object.keys(files)).toEqual([configPath, '/etc/systemd/system/sgsync-agent.service']);
        const unit = files['/etc/systemd/system/sgsync-agent.service']!;
        expect(unitValues(unit, 'ExecStart')).toEqual([`${binary} agent watch --notify-systemd`]);
        expect(unitValues(unit, 'Environment')).toContain(`SGSYNC_CONFIG=${configPath}`);
      }),
      { numRuns: 200 },
    );
  });

  it('quote a word so that the shell reads it back exactly, whatever it holds', () => {
    const text = fc.string({ unit: 'binary', minLength: 1 }).filter((t) => !/[\0\p{Cs}]/u.test(t));
    fc.assert(
      fc.property(text, (word) => {
        expect(execFileSync('sh', ['-c', `printf '%s' ${shellWord(word)}`], { encoding: 'utf8' })).toBe(word);
      }),
      { numRuns: 200 },
    );
  });

  it.each([['/usr/local/bin/sgsync'], ['sgsync@1.2.3'], ['/opt/100%/x,y=z:w+v']])('leave %s unquoted: nothing in it is special to the shell', (word) => {
    expect(shellWord(word)).toBe(word);
  });

  it.each([
    ['a binary path that is not absolute', { binary: 'sgsync' }],
    ['a config path that is not absolute', { configPath: 'etc/sgsync.yaml' }],
    ['a binary path that reads as an option', { binary: '-sgsync' }],
    ['a config path with a newline', { configPath: '/etc/sgsync\n.yaml' }],
    ['a binary path with a control character', { binary: '/opt/\u0007sgsync' }],
    ['a config path with a space', { configPath: '/etc/my sgsync.yaml' }],
    ['a binary path with a quote', { binary: "/opt/it's/sgsync" }],
  ])('refuse %s as a usage error', (_what, paths) => {
    let error: unknown;
    try {
      cloudInit({ config: 'deployment: x\n', ...paths });
    } catch (e) {
      error = e;
    }
    expect(isSgsyncError(error) && error.code).toBe('USAGE');
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
