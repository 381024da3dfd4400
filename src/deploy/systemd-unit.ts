import { SgsyncError } from '../core/errors.js';

/**
 * The systemd unit that runs the agent on an instance. It is a `Type=notify`
 * service: `sgsync agent watch` tells systemd it is ready only once the
 * instance's rules are in place (and observable), so a service ordered after
 * it starts only when its traffic will be admitted. Stopping the unit sends
 * SIGTERM, on which the agent deregisters before it exits.
 */
export interface SystemdUnitOptions {
  /** Path of the sgsync binary on the instance. */
  binary?: string;
  /** Path of the configuration file on the instance. */
  configPath?: string;
  /** Services that need the rule: the unit orders itself before them. */
  before?: string[];
  /** Seconds systemd waits for registration (and for deregistration on stop). */
  timeoutSeconds?: number;
}

export function systemdUnit(options: SystemdUnitOptions = {}): string {
  const binary = options.binary ?? '/usr/local/bin/sgsync';
  const config = options.configPath ?? '/etc/sgsync/sgsync.yaml';
  const timeout = options.timeoutSeconds ?? 180;
  const before = (options.before ?? []).filter((s) => s.trim() !== '');
  for (const name of [binary, config, ...before]) {
    if (/[\s"'\\$`;]/.test(name)) {
      throw new SgsyncError('USAGE', `'${name}' cannot be used in a systemd unit: it contains whitespace or shell characters. Give paths and unit names without them.`);
    }
  }
  const beforeUnits = before.map((s) => (s.includes('.') ? s : `${s}.service`));
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
    `Environment=SGSYNC_CONFIG=${config}`,
    'Environment=AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true',
    `ExecStart=${binary} agent watch --notify-systemd`,
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
