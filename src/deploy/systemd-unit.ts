import { SgsyncError } from '../core/errors.js';

/**
 * The systemd unit that runs the agent on an instance. It is a `Type=notify`
 * service: `sgsync agent watch` tells systemd it is ready once its first
 * registration attempt is over — in the usual case, once the instance's rules
 * are in place and observable, so a service ordered after it starts when its
 * traffic will be admitted; when a target refuses it or a pool is full, with
 * a status line saying so, so that the unit is not failed and restarted while
 * the agent keeps trying. A first attempt that outlasts TimeoutStartSec= is
 * given more time, a minute and a half at a time, for up to 15 minutes of
 * start in all (EXTEND_TIMEOUT_USEC=, see `systemdNotifier`). Stopping the
 * unit sends SIGTERM, on which the agent deregisters before it exits.
 */
export interface SystemdUnitOptions {
  /** Absolute path of the sgsync binary on the instance. */
  binary?: string;
  /** Absolute path of the configuration file on the instance. */
  configPath?: string;
  /** Services that need the rule: the unit orders itself before them. */
  before?: string[];
  /** Seconds systemd waits for registration, unless the agent asks for more (and for deregistration on stop). */
  timeoutSeconds?: number;
}

/** The unit types systemd knows; a name without one of these suffixes is a service. */
const UNIT_SUFFIXES = ['service', 'socket', 'device', 'mount', 'automount', 'swap', 'target', 'path', 'timer', 'slice', 'scope'];

/**
 * A unit name, or an instance of a template (`name@instance.service`), in
 * the characters systemd allows (systemd.unit(5)), at most 255 of them.
 * systemd escapes others as `\xNN`, which sgsync does not take.
 */
const UNIT_NAME = new RegExp(`^[A-Za-z0-9:_.-]+(?:@[A-Za-z0-9:_.@-]+)?\\.(?:${UNIT_SUFFIXES.join('|')})$`);
const UNIT_NAME_MAX = 255;

/**
 * The unit a `--before` value names: itself when it ends in a unit type
 * (`nginx.service`, `app.target`), else that name as a service (`nginx`,
 * `my.api`). Refuses what systemd would not take as a unit name: given in
 * `Before=`, it is ignored with a line in the journal, and the agent no
 * longer starts before the service it was meant to.
 *
 * @example unitName('my.api') // 'my.api.service'
 */
export function unitName(value: string): string {
  const known = UNIT_SUFFIXES.some((suffix) => value.endsWith(`.${suffix}`));
  const name = known ? value : `${value}.service`;
  if (!UNIT_NAME.test(name) || name.length > UNIT_NAME_MAX) {
    throw new SgsyncError(
      'USAGE',
      `--before ${JSON.stringify(value)} is not a systemd unit name. Give a unit of at most ${UNIT_NAME_MAX} letters, digits and ":-_.@", such as nginx, nginx.service or app.target.`,
    );
  }
  return name;
}

/**
 * A path as a unit file reads it: systemd expands `%` specifiers (`%h`,
 * `%Z`…) in ExecStart= and Environment=, so a literal `%` is written `%%`.
 */
function unitPath(path: string): string {
  return path.replaceAll('%', '%%');
}

/**
 * Refuses a path the unit cannot hold as it is. It must be absolute: the
 * unit and cloud-init's commands run in other directories than the one it
 * was given in, and at the start of ExecStart= a `-`, `@`, `:`, `+` or `!`
 * would be read as a prefix. It must hold no whitespace, quote, backslash
 * or `$` (systemd splits, unquotes, unescapes and expands variables in
 * ExecStart=), no `;` or backquote (a shell would act on them, should
 * someone run the ExecStart= line in one), and no control character or lone
 * surrogate (no line of a file holds them as they are).
 * Everything else (`%` aside, see `unitPath`) goes into the unit as it is.
 *
 * @param option the command-line option the path came from, for the message
 */
function checkUnitPath(option: string, path: string): string {
  if (!path.startsWith('/')) {
    throw new SgsyncError('USAGE', `${option} ${JSON.stringify(path)} is not an absolute path. Give the path on the instance from the root, such as /usr/local/bin/sgsync.`);
  }
  if (/[\s"'\\$`;\p{Cc}\p{Cs}]/u.test(path)) {
    throw new SgsyncError(
      'USAGE',
      `${option} ${JSON.stringify(path)} cannot go in a systemd unit: it contains whitespace, a control character, or one of " ' \\ $ \` ;. Give a path without them.`,
    );
  }
  return path;
}

export function systemdUnit(options: SystemdUnitOptions = {}): string {
  const binary = checkUnitPath('--binary', options.binary ?? '/usr/local/bin/sgsync');
  const config = checkUnitPath('--config-path', options.configPath ?? '/etc/sgsync/sgsync.yaml');
  const timeout = options.timeoutSeconds ?? 180;
  const beforeUnits = (options.before ?? []).map(unitName);
  return [
    '[Unit]',
    'Description=sgsync agent: admit this instance to security groups in other regions',
    'Documentation=man:systemd.service(5)',
    'Wants=network-online.target',
    'After=network-online.target',
    ...(beforeUnits.length ? [`Before=${beforeUnits.join(' ')}`] : []),
    '',
    '[Service]',
    'Type=notify',
    // The agent reports readiness through systemd-notify, a child process.
    'NotifyAccess=all',
    `Environment=SGSYNC_CONFIG=${unitPath(config)}`,
    'Environment=AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true',
    `ExecStart=${unitPath(binary)} agent watch --notify-systemd`,
    // SIGTERM makes watch deregister; give it time to finish under throttling.
    'KillSignal=SIGTERM',
    `TimeoutStartSec=${timeout}`,
    `TimeoutStopSec=${timeout}`,
    'Restart=on-failure',
    'RestartSec=10',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
