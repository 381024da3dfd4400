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

function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((line) => (line ? pad + line : line))
    .join('\n');
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
  const unit = systemdUnit({ ...options, binary, configPath });
  return [
    '#cloud-config',
    '# Installs the sgsync agent, which admits this instance to security groups in other regions.',
    'write_files:',
    `  - path: ${configPath}`,
    "    permissions: '0644'",
    '    content: |',
    indent(options.config.trimEnd(), 6),
    '  - path: /etc/systemd/system/sgsync-agent.service',
    "    permissions: '0644'",
    '    content: |',
    indent(unit.trimEnd(), 6),
    'runcmd:',
    `  - [sh, -c, ${JSON.stringify(options.nodeSetup ?? DEFAULT_NODE_SETUP)}]`,
    `  - [sh, -c, ${JSON.stringify(`npm install --global --omit=dev ${pkg} && ln -sf "$(npm root -g)/sgsync/dist/bin/sgsync.js" ${binary}`)}]`,
    '  - [systemctl, daemon-reload]',
    '  - [systemctl, enable, --now, sgsync-agent.service]',
    '',
  ].join('\n');
}
