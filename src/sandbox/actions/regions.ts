import { errors } from '../errors.js';
import type { ActionHandler } from './context.js';

const FILTERS = new Set(['opt-in-status', 'region-name', 'endpoint']);

/** DescribeRegions: the enabled regions, or every region with `AllRegions=true`. */
export const describeRegions: ActionHandler = ({ world, params }) => {
  const all = params.bool('AllRegions') ?? false;
  const names = params.strList('RegionName');
  const filters = params.filters();
  for (const f of filters) {
    if (!FILTERS.has(f.name)) throw errors.invalidValue(`The filter '${f.name}' is invalid`);
  }
  for (const name of names) {
    if (!world.regions.has(name)) throw errors.invalidValue(`Invalid region: ${name}`);
  }
  const regions = [...world.regions.values()].filter((r) => {
    if (names.length > 0 && !names.includes(r.name)) return false;
    if (!all && names.length === 0 && r.optInStatus === 'not-opted-in') return false;
    return filters.every((f) => {
      const value = f.name === 'opt-in-status' ? r.optInStatus : f.name === 'region-name' ? r.name : `ec2.${r.name}.amazonaws.com`;
      return f.values.includes(value);
    });
  });
  return {
    regionInfo: regions.map((r) => ({
      regionName: r.name,
      regionEndpoint: `ec2.${r.name}.amazonaws.com`,
      optInStatus: r.optInStatus,
    })),
  };
};
