import { listenError } from '../http/listen.js';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { messageOf, SgsyncError } from '../core/errors.js';
import { buildDemoFleet } from '../sandbox/demo-fleet.js';
import { loadFaultsFile } from '../sandbox/faults.js';
import { JsonInputError } from '../sandbox/json-input.js';
import { Sandbox } from '../sandbox/sandbox.js';
import { startSandbox, type RunningSandbox } from '../sandbox/server.js';
import { loadStateFile, saveStateFile } from '../sandbox/state-file.js';
import { parseThrottleMode, type ThrottleMode } from '../sandbox/throttle.js';
import { DEFAULT_REGIONS, OPT_IN_REGIONS } from '../sandbox/world.js';
import { untilSignal } from './signals.js';

export interface SandboxCommandOptions {
  host: string;
  port: number;
  regions?: string[];
  demo?: boolean;
  state?: string;
  throttle: ThrottleMode;
  faults?: string;
  seed: number;
  /** Stop when standard input closes (see `untilInputEnds`). */
  exitWithStdin?: boolean;
}

/** Commander argument parsers: each refuses bad input with a message that says what is expected. */
export const parse = {
  port: (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535 (0 picks a free port).');
    return n;
  },
  seed: (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n > 0xffff_ffff) throw new InvalidArgumentError('expected a whole number from 0 to 4294967295.');
    return n;
  },
  regions: (text: string): string[] => {
    const known = new Set<string>([...DEFAULT_REGIONS, ...OPT_IN_REGIONS]);
    const names = text.split(',').map((s) => s.trim()).filter(Boolean);
    if (names.length === 0) throw new InvalidArgumentError('expected a comma-separated list of regions, e.g. us-east-1,eu-west-1.');
    const unknown = names.filter((n) => !known.has(n));
    if (unknown.length > 0) throw new InvalidArgumentError(`unknown region ${unknown.join(', ')}; known regions: ${[...known].join(', ')}.`);
    return [...new Set(names)];
  },
  throttle: (text: string): ThrottleMode => {
    try {
      return parseThrottleMode(text);
    } catch (e) {
      throw new InvalidArgumentError(messageOf(e));
    }
  },
};

function inputError(e: unknown): never {
  if (e instanceof JsonInputError) throw new SgsyncError('CONFIG_INVALID', e.message, { cause: e });
  throw e;
}

export interface OpenedSandbox {
  running: RunningSandbox;
  /** Saves the state file (if any) and stops the server. */
  stop(): Promise<void>;
  /** True when the world came from the state file. */
  restored: boolean;
}

/**
 * Builds and starts a sandbox from command-line options: faults file, state
 * file, demo fleet, the HTTP server, then a first save of a new state file
 * so that an unwritable path fails now rather than at exit. Every problem is an SgsyncError with a clear
 * message; nothing is written over an existing state file that failed to load.
 */
export async function openSandbox(options: SandboxCommandOptions): Promise<OpenedSandbox> {
  let faults;
  let loaded;
  try {
    faults = options.faults ? loadFaultsFile(options.faults) : undefined;
    loaded = options.state ? loadStateFile(options.state) : undefined;
  } catch (e) {
    inputError(e);
  }
  const sandbox = new Sandbox({ regions: options.regions, seed: options.seed, throttle: options.throttle });
  if (loaded) sandbox.reset(loaded);
  if (faults) sandbox.faults.set(faults);
  if (options.demo && !loaded) {
    try {
      await buildDemoFleet(sandbox);
    } catch (e) {
      throw new SgsyncError('USAGE', messageOf(e), { cause: e });
    }
  }

  const save = () => {
    if (options.state) saveStateFile(options.state, sandbox.world);
  };
  let running: RunningSandbox;
  try {
    running = await startSandbox({ host: options.host, port: options.port }, sandbox);
  } catch (e) {
    throw listenError(e, options.host, options.port, '--port');
  }
  if (options.state && !loaded) {
    try {
      save();
    } catch (e) {
      await running.close();
      throw new SgsyncError('REFUSED', `cannot write state file ${options.state}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
    }
  }

  // Saving from time to time keeps most of the world if the process is killed hard.
  let savedGeneration = sandbox.generation;
  const autosave = setInterval(() => {
    if (!options.state || sandbox.generation === savedGeneration) return;
    try {
      save();
      savedGeneration = sandbox.generation;
    } catch (e) {
      sandbox.log(`saving ${options.state} failed: ${messageOf(e)}`);
    }
  }, 10_000);
  autosave.unref();

  return {
    running,
    restored: loaded !== undefined,
    stop: async () => {
      clearInterval(autosave);
      await running.close();
      save();
    },
  };
}


/**
 * Resolves when `input` ends, closes or fails; what is read from it is
 * dropped. A program that starts the sandbox with a pipe on its standard
 * input holds the pipe's other end, which the kernel closes however the
 * program ends, SIGKILL included: then the sandbox sees its input end and
 * stops, instead of serving for ever with nobody to stop it.
 */
export function untilInputEnds(input: NodeJS.ReadableStream = process.stdin): Promise<void> {
  return new Promise((resolve) => {
    const done = () => resolve();
    input.once('end', done);
    input.once('close', done);
    input.once('error', done);
    input.resume();
  });
}

/** Stops cleanly and exits: long-polling readers must not keep the process alive. */
export async function stopAndExit(opened: OpenedSandbox, state?: string): Promise<never> {
  try {
    await opened.stop();
  } catch (e) {
    process.stderr.write(`sgsync: saving state file ${state ?? ''} failed: ${messageOf(e)}\n`);
    process.exit(1);
  }
  if (state) process.stderr.write(`sgsync sandbox: state saved to ${state}\n`);
  process.exit(0);
}

/** Adds `sgsync sandbox`: the local EC2 + IMDS emulator, in the foreground. */
export function addSandboxCommand(program: Command): void {
  program
    .command('sandbox')
    // Usage errors must reach runCli as exceptions so they get the documented exit code.
    .exitOverride()
    .summary('Run the local EC2 + IMDSv2 emulator')
    .description(
      'Run the sandbox in the foreground: a local server that speaks the EC2 Query API and IMDSv2 like AWS, across many regions, ' +
        'with AWS quotas, errors, pagination and throttling. Point any AWS client at it with --endpoint-url (any credentials). ' +
        'Ctrl-C or SIGTERM stops it (after saving --state). See docs/sandbox.md.',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on; 0 picks a free port (the line printed at start says which)', parse.port, 4566)
    .option('--regions <list>', 'comma-separated regions to enable (default: the regions AWS enables for every account)', parse.regions)
    .option('--demo', 'start with the demo fleet (a primary security-group pool in us-east-1, instances in four other regions)')
    .option('--state <file>', 'load the world from FILE at start (if it exists) and save it there on exit; an invalid file is refused, never overwritten')
    .addOption(
      new Option('--throttle <mode>', "AWS's request throttling: off, aws, or aws:SCALE (same bursts, SCALE times faster refill)")
        .argParser(parse.throttle)
        .default({ kind: 'off' } satisfies ThrottleMode, 'off'),
    )
    .option('--faults <file>', 'fault-injection rules (JSON, see docs/sandbox.md): errors, latency, dropped connections per action and region')
    .option('--seed <n>', 'seed for ids, addresses and faults: the same seed and the same calls give the same results', parse.seed, 1)
    .option('--exit-with-stdin', 'stop, as on SIGTERM, when standard input closes: for a program that starts the sandbox with a pipe there and may die without stopping it')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  sgsync sandbox --demo\n' +
        '  sgsync sandbox --port 0 --state world.json --throttle aws:10\n' +
        '  AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x aws ec2 describe-regions --endpoint-url http://127.0.0.1:4566 --region us-east-1\n',
    )
    .action(async (options: SandboxCommandOptions) => {
      // Watched from the start: the program that started the sandbox may be gone before it listens.
      const inputEnded = options.exitWithStdin ? untilInputEnds().then(() => 'input' as const) : new Promise<never>(() => undefined);
      const opened = await openSandbox(options);
      process.stdout.write(`sgsync sandbox listening on ${opened.running.url}\n`);
      if (opened.restored) process.stderr.write(`sgsync sandbox: world loaded from ${options.state}${options.demo ? ' (--demo ignored)' : ''}\n`);
      if ((await Promise.race([untilSignal(), inputEnded])) === 'input') process.stderr.write('sgsync sandbox: standard input closed (--exit-with-stdin): stopping\n');
      await stopAndExit(opened, options.state);
    });
}
