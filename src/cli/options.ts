/** Option parsers and options that several commands share. */
import { InvalidArgumentError, Option } from 'commander';

/** A commander parser for a number option within [min, max], whole when `integer`: a usage error (exit 2) otherwise. */
export function numberIn(name: string, min: number, max: number, integer: boolean): (v: string) => number {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, not "${v}"`);
    }
    return n;
  };
}

/** `--log-level`, as every command that logs takes it. */
export function logLevelOption(): Option {
  return new Option('--log-level <level>', 'log level on stderr').choices(['debug', 'info', 'warn', 'error']).default('info');
}
