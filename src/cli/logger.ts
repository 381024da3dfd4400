import { pino, type Logger } from 'pino';
import type { PassOptions } from '../core/reconcile.js';
import { redactSecrets, secretValues } from '../aws/secrets.js';
import { UNPRINTABLE } from './table.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  /** `json` (one object per line) or `text` (for people); default: text on a terminal, json otherwise. */
  format?: 'json' | 'text';
  /** Where lines go instead of stderr (tests, embedding). */
  destination?: { write(line: string): unknown };
  /** Whose credential values to blank out of every line (default: this process's environment). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Keys whose values are credentials wherever they appear in a log object, so
 * that passing an SDK config or a request by mistake logs no secret.
 */
const REDACT_PATHS = ['secretAccessKey', 'sessionToken', 'credentials', 'authorization', 'password']
  .flatMap((k) => [k, `*.${k}`, `*.*.${k}`])
  .concat(['headers.authorization', '*.headers.authorization', 'headers["x-amz-security-token"]', '*.headers["x-amz-security-token"]']);

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const RESERVED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

/**
 * Text for a terminal with every control and format character written as its
 * escape (`\x1b`, `\u{202e}`): log lines quote text others wrote (a rule's
 * tags, an endpoint's error message), which must not move the cursor, clear
 * the screen, write the clipboard or reorder what is shown, and stays
 * readable for what it was. `lines` keeps line feeds and tabs, for a message
 * of several lines (a configuration's problems, one a line).
 */
export function terminalText(text: string, options: { lines?: boolean } = {}): string {
  return text.replace(UNPRINTABLE, (c) => {
    if (options.lines === true && (c === '\n' || c === '\t')) return c;
    const code = c.codePointAt(0)!;
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** Renders a pino line as `time level message key=value …` for a terminal, controls escaped (`terminalText`). */
export function formatTextLine(line: string): string {
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    const extra = Object.entries(o)
      .filter(([k]) => !RESERVED.has(k))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    const time = typeof o.time === 'number' ? new Date(o.time).toISOString().slice(11, 19) : '';
    const level = LEVEL_NAMES[o.level as number] ?? String(o.level);
    return `${time} ${level.padEnd(5)} ${terminalText(`${typeof o.msg === 'string' ? o.msg : JSON.stringify(o.msg ?? '')}${extra ? `  ${extra}` : ''}`)}\n`;
  } catch {
    return `${terminalText(line.replace(/\n$/, ''))}\n`;
  }
}

/**
 * Logs go to stderr, results to stdout. Nothing secret is logged: callers
 * pass ids, regions and CIDRs, never credentials; credential-named keys are
 * censored and credential values from the environment are blanked anyway.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? (process.stderr.isTTY ? 'text' : 'json');
  const level = options.level ?? process.env.SGSYNC_LOG_LEVEL ?? 'info';
  const secrets = secretValues(options.env ?? process.env);
  const base = {
    base: undefined,
    level,
    timestamp: pino.stdTimeFunctions.epochTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // Messages can quote text sgsync did not write (an endpoint's error message): blank any credential in it.
    hooks: { streamWrite: (line: string) => (secrets.length > 0 ? redactSecrets(line, secrets) : line) },
  };
  const out = options.destination;
  if (format === 'json') return pino(base, out ?? pino.destination({ fd: 2, sync: true }));
  return pino(base, {
    write(line: string) {
      const text = formatTextLine(line);
      if (out) out.write(text);
      else process.stderr.write(text);
    },
  });
}

/**
 * Says, before each further round of a pass, when AWS refused something and
 * the pass is trying again: as information, not a warning, since under
 * contention (agents booting, another controller) it is how a pass succeeds.
 */
export function roundLogger(log: Pick<Logger, 'info'>): NonNullable<PassOptions['onRound']> {
  return (round, maxRounds, refusal) => {
    if (refusal) log.info({ round, maxRounds, code: refusal.code }, `AWS refused a change (${refusal.message}); looking again, round ${round} of at most ${maxRounds}`);
  };
}
