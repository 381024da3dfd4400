import type { ActionHandler } from './context.js';
import { describeRegions } from './regions.js';

/** Every EC2 action the sandbox answers, by its Query-API name. */
export const actions: Record<string, ActionHandler> = {
  DescribeRegions: describeRegions,
};
