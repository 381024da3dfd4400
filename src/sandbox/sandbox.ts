import { Counters } from './counters.js';
import { EventLog } from './events.js';
import { Faults } from './faults.js';
import { ImdsTokens } from './imds-tokens.js';
import { Throttle, type ThrottleMode } from './throttle.js';
import { World, type WorldOptions } from './world.js';

export interface SandboxOptions extends WorldOptions {
  throttle?: ThrottleMode;
  /** Called with one line for each internal problem worth telling the operator. */
  log?: (line: string) => void;
}

/**
 * Everything one running sandbox holds: the world and the machinery around it
 * (throttling, faults, counters, events, IMDS tokens). The HTTP layer and the
 * control API both work on this object.
 */
export class Sandbox {
  world: World;
  readonly counters = new Counters();
  /** IMDS requests per instance (`*` for the root token path): `token` and `read`, with their outcomes. */
  readonly imdsCounters = new Counters();
  readonly events = new EventLog();
  readonly throttle: Throttle;
  readonly faults: Faults;
  readonly imdsTokens: ImdsTokens;
  /** Increments on every successful mutating or reading call; state files save when it moved. */
  generation = 0;
  private readonly logLine: (line: string) => void;

  constructor(readonly options: SandboxOptions = {}) {
    this.world = new World(options);
    this.throttle = new Throttle(options.throttle ?? { kind: 'off' });
    this.faults = new Faults(options.seed ?? 1);
    this.imdsTokens = new ImdsTokens(
      () => this.world.clock.now(),
      () => this.faults.tokenEpoch,
    );
    this.logLine = options.log ?? ((line) => process.stderr.write(`sgsync sandbox: ${line}\n`));
  }

  /** Replaces the world with a new, empty one built from the same options. */
  reset(world?: World): void {
    this.world = world ?? new World(this.options);
    this.events.clear();
    this.counters.reset();
    this.imdsCounters.reset();
    this.generation++;
  }

  changed(): void {
    this.generation++;
  }

  log(line: string): void {
    this.logLine(line);
  }
}
