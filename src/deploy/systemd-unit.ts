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
  /** Path of the sgsync binary on the instance. */
  binary?: string;
  /** Path of the configuration file on the instance. */
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

export function systemdUnit(options: SystemdUnitOptions = {}): string {
  const binary = options.binary ?? '/usr/local/bin/sgsync';
  const config = options.configPath ?? '/etc/sgsync/sgsync.yaml';
  const timeout = options.timeoutSeconds ?? 180;
  const before = options.before ?? [];
  for (const name of [binary, config, ...before]) {
    if (/[\s"'\\$`;]/.test(name)) {
      throw new SgsyncError('USAGE', `'${name}' cannot be used in a systemd unit: it contains whitespace or shell characters. Give paths and unit names without them.`);
    }
  }
  const beforeUnits = before.map(unitName);
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
