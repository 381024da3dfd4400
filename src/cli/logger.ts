import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  /** `json` (one object per line) or `text` (for people); default: text on a terminal, json otherwise. */
  format?: 'json' | 'text';
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const RESERVED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

/** Renders a pino line as `time level message key=value …` for a terminal. */
export function formatTextLine(line: string): string {
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    const extra = Object.entries(o)
      .filter(([k]) => !RESERVED.has(k))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    const time = typeof o.time === 'number' ? new Date(o.time).toISOString().slice(11, 19) : '';
    const level = LEVEL_NAMES[o.level as number] ?? String(o.level);
    return `${time} ${level.padEnd(5)} ${typeof o.msg === 'string' ? o.msg : JSON.stringify(o.msg ?? '')}${extra ? `  ${extra}` : ''}\n`;
  } catch {
    return line;
  }
}

/**
 * Logs go to stderr, results to stdout. Nothing secret is logged: callers
 * pass ids, regions and CIDRs, never credentials.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? (process.stderr.isTTY ? 'text' : 'json');
  const level = options.level ?? process.env.SGSYNC_LOG_LEVEL ?? 'info';
  const base = { base: undefined, level, timestamp: pino.stdTimeFunctions.epochTime };
  if (format === 'json') return pino(base, pino.destination({ fd: 2, sync: true }));
  return pino(base, {
    write(line: string) {
      process.stderr.write(formatTextLine(line));
    },
  });
}
