/**
 * Which pool groups exist. DescribeSecurityGroupRules, which a pass reads
 * the pools through, answers an empty list for a group id that names
 * nothing, so a typo in the configuration (or a group deleted) looked like
 * an empty group with its whole quota free. A pass therefore also lists the
 * pools' groups (DescribeSecurityGroups, one call per target region, while
 * the rules are read) and plans around those EC2 does not list.
 */
import { missingGroupText, MISSING_GROUP_FIX, type LoadedConfig } from '../config/index.js';
import { isSgsyncError, messageOf, SgsyncError } from '../core/errors.js';
import { mapLimit } from '../core/limit.js';
import type { MissingGroup, Plan } from '../core/model.js';
import type { Ec2Port } from '../core/ports.js';

export interface GroupCheck {
  /** Groups EC2 did not list in the regions it was asked about. */
  missing: MissingGroup[];
  /** Regions whose groups could not be listed, and why: there a missing group shows only when AWS refuses a change in it. */
  unchecked: { region: string; code: string; reason: string }[];
}

/**
 * Lists the groups of every region's pools and returns those EC2 does not
 * know. Never fails: a region that cannot be listed (a role without
 * `ec2:DescribeSecurityGroups`, AWS unavailable) is `unchecked`, and the
 * pass goes on as it did before the check. A port without `existingGroups`
 * checks nothing.
 */
export async function checkGroups(ec2: Ec2Port, groups: readonly { region: string; groupIds: string[] }[], concurrency = 8): Promise<GroupCheck> {
  const check: GroupCheck = { missing: [], unchecked: [] };
  const list = ec2.existingGroups?.bind(ec2);
  if (!list) return check;
  await mapLimit(groups, concurrency, async ({ region, groupIds }) => {
    if (groupIds.length === 0) return;
    try {
      const found = new Set(await list(region, groupIds));
      for (const groupId of groupIds) if (!found.has(groupId)) check.missing.push({ groupId, region });
    } catch (e) {
      check.unchecked.push({ region, code: isSgsyncError(e) ? e.code : 'INTERNAL', reason: messageOf(e) });
    }
  });
  return check;
}

/**
 * The warning for the regions whose groups could not be listed, or
 * undefined when every region was: one sentence for all of them, saying
 * what the pass cannot see and, for a denial, the permission to add.
 */
export function groupCheckWarning(check: GroupCheck | undefined): string | undefined {
  const unchecked = check?.unchecked ?? [];
  if (unchecked.length === 0) return undefined;
  const regions = unchecked.map((u) => u.region).sort();
  const denied = unchecked.every((u) => u.code === 'PERMISSION_DENIED');
  const why = denied ? 'AWS denied ec2:DescribeSecurityGroups' : unchecked.map((u) => `${u.region}: ${u.reason.replace(/\.+$/, '')}`).join('; ');
  const fix = denied ? ' Add ec2:DescribeSecurityGroups to the role (`sgsync iam policy` prints it).' : '';
  return `Could not check that the pool groups exist in ${regions.join(', ')} (${why}): a group that does not exist looks empty until AWS refuses a rule there.${fix}`;
}

/**
 * One NOT_FOUND error for each group a plan names as missing (once, though
 * several targets list it), saying where the configuration lists it: a pass
 * that planned around a group that does not exist still needs someone to fix
 * the configuration, even when it had nothing to add there.
 */
export function missingGroupErrors(loaded: LoadedConfig, plan: Plan, check: GroupCheck | undefined): SgsyncError[] {
  const seen = new Set<string>();
  const listed = new Set((check?.missing ?? []).map((m) => `${m.region} ${m.groupId}`));
  const out: SgsyncError[] = [];
  for (const m of plan.missing) {
    const key = `${m.region} ${m.groupId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(
      new SgsyncError('NOT_FOUND', `${missingGroupText(loaded, m)}; nothing is placed in it. ${MISSING_GROUP_FIX}`, {
        details: { groupId: m.groupId, region: m.region, ...(listed.has(key) ? { action: 'DescribeSecurityGroups' } : {}) },
      }),
    );
  }
  return out;
}
