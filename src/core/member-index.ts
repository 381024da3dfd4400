/**
 * The members of a pass, one per instance id, found by binary search. A
 * sorted array rather than a hash map: a fleet-sized Map costs far more to
 * build than the handful of lookups a pass makes, and sorting also finds the
 * duplicates.
 */
import type { Member } from './model.js';

export class MemberIndex {
  /** One member per instance id (the first given), sorted by id. */
  readonly members: Member[] = [];
  /** Instance ids that were listed more than once. */
  readonly duplicates: string[] = [];

  constructor(members: Member[]) {
    // Array.prototype.sort is stable, so the first entry of an id stays first.
    const sorted = members.filter((m) => typeof m?.instanceId === 'string').sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0));
    for (const member of sorted) {
      const last = this.members[this.members.length - 1];
      if (last?.instanceId !== member.instanceId) this.members.push(member);
      else if (this.duplicates[this.duplicates.length - 1] !== member.instanceId) this.duplicates.push(member.instanceId);
    }
  }

  get(instanceId: string): Member | undefined {
    let lo = 0;
    let hi = this.members.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const id = (this.members[mid] as Member).instanceId;
      if (id === instanceId) return this.members[mid];
      if (id < instanceId) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }
}
