/**
 * `sgsync inventory`: every instance of every member region in one table,
 * with the targets that pick it and its rule standing in each.
 */
import { Option, type Command } from 'commander';
import { SgsyncError, type ErrorCode } from '../core/errors.js';
import type { LoadedConfig } from '../config/index.js';
import { INSTANCE_STATES } from '../core/model.js';
import { groupCheckWarning } from '../controller/group-check.js';
import type { RegionResult } from '../controller/inventory.js';
import { inventoryRegions } from '../controller/inventory.js';
import { countByRegion, filterRows, parseTagFilter, SORT_COLUMNS, sortRows, type FleetFilter, type SortColumn } from '../dashboard/fleet-filter.js';
import { loadFleetView } from '../dashboard/fleet-source.js';
import { worstStatus, type FleetView, type InstanceRow } from '../dashboard/fleet-view.js';
import { awsContext, callCounts, type AwsCliOptions, withAwsConnection } from './aws-context.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { printable, renderTable, UNPRINTABLE } from './table.js';
import { retiredText } from '../core/plan-output.js';

export interface FleetCliOptions extends AwsCliOptions {
  region?: string[];
}

/** The options every fleet-wide read command shares. */
export function withFleetOptions(cmd: Command): Command {
  return withAwsConnection(cmd)
    .option('--region <region...>', 'only these member regions (default: controller.regions, then every enabled region)');
}

/**
 * Shows each region as it finishes, on a terminal only: a line per region
 * and a running count, so a slow or failing region is visible at once.
 */
export function regionProgress(total: number, stream: NodeJS.WriteStream = process.stderr): { onRegion: (r: RegionResult) => void; done: () => void } {
  if (!stream.isTTY) return { onRegion: () => undefined, done: () => undefined };
  let finished = 0;
  const status = () => stream.write(`\r\x1b[Klisting instances: ${finished}/${total} regions`);
  status();
  return {
    onRegion: (r) => {
      finished++;
      const line = r.status === 'complete' ? `  ok      ${r.region.padEnd(15)} ${String(r.instances).padStart(6)} instances  ${(r.ms / 1000).toFixed(1)}s` : `  FAILED  ${r.region.padEnd(15)} ${printable(r.reason)}`;
      stream.write(`\r\x1b[K${line}\n`);
      status();
    },
    done: () => void stream.write('\r\x1b[K'),
  };
}

/** Reads the fleet with progress on stderr, once `check` (given the configuration) has let the options through. */
export async function readFleet(options: FleetCliOptions, check?: (loaded: LoadedConfig) => void): Promise<{ view: FleetView; calls: Record<string, number> }> {
  const { loaded, ec2 } = await awsContext(options);
  check?.(loaded);
  const regions = await inventoryRegions(loaded, ec2, options.region, 'everything');
  const progress = regionProgress(regions.length);
  try {
    const view = await loadFleetView({ config: loaded, ec2, regions, onRegion: progress.onRegion });
    return { view, calls: callCounts(ec2) };
  } finally {
    progress.done();
    ec2.clients.destroy();
  }
}

/** The exit code when a region could not be listed: the code of its error (permission, AWS unavailable…). */
export function failedRegionExit(view: FleetView): number {
  const failed = view.regions.find((r) => r.status === 'failed');
  return failed ? exitCodeFor((failed.code ?? 'INTERNAL') as ErrorCode) || EXIT.FAILURE : EXIT.OK;
}

/**
 * One CSV field: always quoted, quotes doubled, and a leading =, +, -, @, tab
 * or CR defused so spreadsheets never run it as a formula. Control and format
 * characters other than tab and line feed are shown as `?`, as in the table:
 * a tag value's ESC sequences would act on a terminal the CSV is printed to,
 * and mean nothing in a sheet.
 */
export function csvField(value: string | number | undefined): string {
  let text = value === undefined ? '' : String(value).replace(UNPRINTABLE, (c) => (c === '\n' || c === '\t' ? c : '?'));
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
}

const HEAD = ['region', 'id', 'name', 'state', 'type', 'public', 'private', 'ipv6', 'launched', 'targets'];

function cells(view: FleetView, r: InstanceRow): (string | undefined)[] {
  return [r.region, r.instanceId, r.name, r.state, r.type, r.publicIpv4, r.privateIpv4, r.ipv6.join(' '), r.launchTime, r.targets.join(' '), ...view.targets.map((t) => r.standing[t.name]?.status)];
}

/**
 * What the inventory's rule statuses rest on that is wrong or unknown: a pool
 * group that does not exist (its members show as going elsewhere, or blocked),
 * retired groups and what is left in them, and pool groups that could not be checked.
 */
export function inventoryNotes(view: FleetView): string[] {
  const notes = (view.report?.errors ?? []).filter((e) => e.code === 'NOT_FOUND').map((e) => e.message);
  // A member's rule in a retired group is no rule in the pool: its status says what a pass does about it.
  const retired = (view.report?.targets ?? []).flatMap((t) => (t.retired ?? []).map((l) => `target ${t.name}: ${retiredText(l)}`));
  const unchecked = groupCheckWarning(view.groupCheck);
  return [...notes, ...retired, ...(unchecked ? [unchecked] : [])];
}

/** The inventory as JSON: counts per region (failed ones with their reason), one object per instance, and the notes. */
export function inventoryJson(view: FleetView, rows: InstanceRow[], calls?: Record<string, number>) {
  return {
    at: view.at,
    deployment: view.deployment,
    regions: countByRegion(view, rows).map(({ attention: _a, ...r }) => r),
    total: rows.length,
    instances: rows.map((r) => ({ ...r, status: worstStatus(r) })),
    notes: inventoryNotes(view),
    ...(calls ? { calls } : {}),
  };
}

interface InventoryOptions extends FleetCliOptions {
  state?: string[];
  tag?: string[];
  target?: string;
  sort: SortColumn;
  json?: boolean;
  csv?: boolean;
}

export function addInventoryCommand(program: Command): void {
  withFleetOptions(program.command('inventory'))
    .summary('List every instance of every region, with its rule status per target')
    .description('List every instance in every member region: where it runs, its addresses, the targets that pick it and whether its rules are in place.')
    .addOption(new Option('--state <state...>', 'only instances in these states').choices(INSTANCE_STATES))
    .option('--tag <k=v>', 'only instances with this tag (k alone, or k=*, for any value); repeatable', (v: string, prev: string[] = []) => [...prev, v])
    .option('--target <name>', 'only instances this target picks')
    .addOption(new Option('--sort <column>', 'sort by this column').choices(SORT_COLUMNS).default('region'))
    .addOption(new Option('--json', 'print JSON on stdout').conflicts('csv'))
    .option('--csv', 'print CSV on stdout (every field quoted, formulas defused)')
    .addHelpText('after', '\nA region that cannot be listed is shown as failed with its reason, and the exit code is that of the error\n(4: permission denied, 6: AWS unavailable, 2: a request AWS called invalid, 1: other). See docs/exit-codes.md.')
    .action(async (options: InventoryOptions) => {
      const { view, calls } = await readFleet(options, (loaded) => {
        if (options.target !== undefined && !loaded.targets.some((t) => t.name === options.target)) {
          throw new SgsyncError('USAGE', `--target ${options.target}: ${loaded.file} has no such target; it has ${loaded.targets.map((t) => t.name).join(', ')}.`);
        }
      });
      const filter: FleetFilter = { states: options.state, target: options.target, tags: Object.fromEntries((options.tag ?? []).map(parseTagFilter)) };
      const rows = sortRows(filterRows(view.rows, filter), options.sort);
      const heads = [...HEAD, ...view.targets.map((t) => `rule:${t.name}`)];
      if (options.json) {
        process.stdout.write(`${JSON.stringify(inventoryJson(view, rows, calls), null, 2)}\n`);
      } else if (options.csv) {
        process.stdout.write([heads, ...rows.map((r) => cells(view, r))].map((line) => line.map(csvField).join(',')).join('\r\n') + '\r\n');
      } else {
        const regions = renderTable(
          ['region', 'inventory', 'instances', 'running'],
          countByRegion(view, rows).map((r) => [r.region, r.status === 'failed' ? `FAILED: ${r.reason ?? ''}` : 'complete', r.instances, r.running]),
        );
        const table = rows.length ? renderTable(heads, rows.map((r) => cells(view, r))) : 'No instances match.\n';
        const notes = inventoryNotes(view).map((n) => `Note: ${printable(n)}\n`).join('');
        process.stdout.write(`${table}\n${regions}\n${rows.length} instance${rows.length === 1 ? '' : 's'} in ${view.regions.length} regions\n${notes}`);
      }
      process.exitCode = failedRegionExit(view);
    });
}
