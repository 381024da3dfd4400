import type { EventLog } from '../events.js';
import type { Params } from '../query.js';
import type { Region, World } from '../world.js';
import type { XmlObject } from '../xml.js';

/** What an action handler gets: the world, the request's region and parameters. */
export interface ActionContext {
  world: World;
  region: Region;
  params: Params;
  /** Sandbox-clock milliseconds at the start of the request. */
  now: number;
  events: EventLog;
  /**
   * The request asked for `DryRun=true`: validate as usual, then throw
   * `errors.dryRun()` instead of mutating.
   */
  dryRun: boolean;
  /**
   * Fault injection's read lag: reads that list instances leave out those
   * launched less than this many milliseconds ago (0: none).
   */
  instanceReadLagMs?: number;
  /** The same for rules: DescribeSecurityGroupRules leaves out those created less than this many milliseconds ago. */
  ruleReadLagMs?: number;
}

/**
 * A handler validates everything first and mutates the world last, so that a
 * rejected request changes nothing. It returns the response body members.
 */
export type ActionHandler = (ctx: ActionContext) => XmlObject;
