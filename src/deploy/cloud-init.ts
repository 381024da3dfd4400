import { SgsyncError } from '../core/errors.js';
import { systemdUnit, type SystemdUnitOptions } from './systemd-unit.js';

export interface CloudInitOptions extends SystemdUnitOptions {
  /** The sgsync.yaml content to install on the instance. */
  config: string;
  /** npm package spec to install (a version, or a tarball URL from your own mirror). */
  packageSpec?: string;
  /**
   * A shell command that makes Node.js 20.19 or newer available. The default
   * uses the distribution's package manager when `node` is missing; bake
   * Node into the AMI, or pass your own command, when that is too old.
   */
  nodeSetup?: string;
}

const DEFAULT_NODE_SETUP = 'command -v node >/dev/null || dnf install -y nodejs npm || (apt-get update && apt-get install -y nodejs npm)';

/**
 * What `npm install` installs: sgsync, or the spec given, where a bare
 * version or range (`1.2.3`, `^1.2`) means that version of sgsync.
 */
export function packageOf(spec: string | undefined): string {
  if (spec === undefined) return 'sgsync';
  // It goes into a shell command line: letters, digits and what versions, scopes and URLs are made of, nothing else.
  if (!/^[\w@/.:~^+=%-]+$/.test(spec)) {
    throw new SgsyncError('USAGE', `'${spec}' is not an npm package spec that can go in user data: give a version (1.2.3), sgsync@VERSION, or a tarball URL, without whitespace or shell characters.`);
  }
  return /^[~^]?v?\d/.test(spec) ? `sgsync@${spec}` : spec;
}

/**
 * `word` as one word of a POSIX shell command line: as it is when it holds
 * only characters no shell acts on (as Python's `shlex.quote` decides),
 * else in single quotes, each `'` in it written `'\''`. The shell reads it
 * back exactly, whatever it holds but NUL, which no argument can hold.
 *
 * @example shellWord('/opt/a&b') // "'/opt/a&b'"
 */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * `text` as the value of a YAML key whose mapping is indented `keyIndent`
 * columns: a literal block scalar, its lines `keyIndent + 2` columns in, that
 * a parser reads back as exactly `text`. The header says both things a parser
 * would otherwise guess: the indentation (without `|2`, it is taken from the
 * first non-empty line, so a file that begins with an indented comment reads
 * as broken YAML or as different text), and how the text ends (`-`: no final
 * newline; none: one; `+`: more than one).
 *
 * @example literalBlock('  # note\nx: 1\n', 4) // ['|2', '        # note', '      x: 1']
 */
export function literalBlock(text: string, keyIndent: number): { header: string; lines: string[] } {
  const chomp = !text.endsWith('\n') ? '-' : text.endsWith('\n\n') ? '+' : '';
  const pad = ' '.repeat(keyIndent + 2);
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  // YAML reads an empty line and one of spaces alike as empty; left empty, the user data has no trailing spaces.
  const lines = body === '' ? [] : body.split('\n').map((line) => (line ? pad + line : line));
  return { header: `|2${chomp}`, lines };
}

/**
 * The characters cloud-init's YAML parser (PyYAML, YAML 1.1) reads as
 * themselves inside a literal block: tab, newline, printable ASCII, and the
 * printable rest of Unicode but U+2028 and U+2029. PyYAML also ends a line
 * at CR, U+0085, U+2028 and U+2029 (YAML 1.2, and so `sgsync config
 * validate`, does not), so a file holding one would go on at column 0 of the
 * user data as keys of its own (`bootcmd:`, run as root at boot); and it
 * refuses the whole document for any other control character.
 */
const LITERAL_SAFE = /^[\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;
const NOT_LITERAL_SAFE = /[^\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

/**
 * True when `text` can go into the user data as a literal block that
 * cloud-init reads back as exactly `text`.
 *
 * @example literalSafe('deployment: x\n') // true
 * @example literalSafe('# ok\u2028bootcmd: [id]\n') // false
 */
export function literalSafe(text: string): boolean {
  return LITERAL_SAFE.test(text);
}

/**
 * `text` as a YAML double-quoted string that PyYAML and YAML 1.2 both read
 * back exactly: JSON's quoting (a subset of YAML's), with every character
 * PyYAML would take as a line break or refuse written as a `\uXXXX` escape.
 *
 * @example yamlString('a\u2028b') // '"a\\u2028b"'
 */
export function yamlString(text: string): string {
  return JSON.stringify(text).replace(NOT_LITERAL_SAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The `content` of a `write_files` entry indented `keyIndent` columns: a
 * literal block, readable in the user data, when every character of `text`
 * is one cloud-init reads as itself there; otherwise `text` base64-encoded,
 * which any text survives.
 */
function contentEntry(text: string, keyIndent: number): string[] {
  const pad = ' '.repeat(keyIndent);
  if (literalSafe(text)) {
    const { header, lines } = literalBlock(text, keyIndent);
    return [`${pad}content: ${header}`, ...lines];
  }
  return [
    `${pad}# Base64: the file holds a character cloud-init's YAML would not read as itself (CR, U+0085, U+2028, U+2029 or a control character).`,
    `${pad}encoding: b64`,
    `${pad}content: ${Buffer.from(text, 'utf8').toString('base64')}`,
  ];
}

/**
 * A `#cloud-config` user-data document that installs Node.js and sgsync,
 * writes the configuration and the systemd unit, and starts the agent, so a
 * new instance admits itself on first boot.
 */
export function cloudInit(options: CloudInitOptions): string {
  const binary = options.binary ?? '/usr/local/bin/sgsync';
  const configPath = options.configPath ?? '/etc/sgsync/sgsync.yaml';
  const pkg = packageOf(options.packageSpec);
  // The unit refuses what it cannot hold (see systemdUnit), which leaves what shell and YAML quoting can.
  const unit = systemdUnit({ ...options, binary, configPath });
  return [
    '#cloud-config',
    '# Installs the sgsync agent, which admits this instance to security groups in other regions.',
    'write_files:',
    // Double quotes are a YAML string read back exactly, whatever indicators the path holds.
    `  - path: ${yamlString(configPath)}`,
    "    permissions: '0644'",
    ...contentEntry(options.config, 4),
    '  - path: /etc/systemd/system/sgsync-agent.service',
    "    permissions: '0644'",
    ...contentEntry(unit, 4),
    'runcmd:',
    `  - [sh, -c, ${yamlString(options.nodeSetup ?? DEFAULT_NODE_SETUP)}]`,
    `  - [sh, -c, ${yamlString(`npm install --global --omit=dev ${shellWord(pkg)} && ln -sf "$(npm root -g)/sgsync/dist/bin/sgsync.js" ${shellWord(binary)}`)}]`,
    '  - [systemctl, daemon-reload]',
    '  - [systemctl, enable, --now, sgsync-agent.service]',
    '',
  ].join('\n');
}
