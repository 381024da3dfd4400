/**
 * The members of a pass, one per instance id (the first entry wins), found
 * by id in O(1). Canonical EC2 ids (nearly all of them) are indexed by value
 * in an `InstanceIdIndex`, any other spelling by text in a `StringIndex`; both
 * take an id where it stands in a rule's description, and a fleet costs a few
 * typed arrays rather than a hundred thousand map entries.
 */
import { InstanceIdIndex, readInstanceIdInto } from './instance-id-index.js';
import type { Member } from './model.js';
import { StringIndex } from './string-index.js';

/** `InstanceIdIndex`'s answer for an id it does not take. */
const NOT_CANONICAL = -2;
/** `queue`'s answer for an id left to `findQueued`. */
export const QUEUED = -3;

export class MemberIndex {
  /** One member per instance id (the first given), in the order given. */
  readonly members: Member[];
  /** Instance ids that were listed more than once. */
  readonly duplicates: string[] = [];
  private readonly byValue: InstanceIdIndex;
  private readonly byText: StringIndex;

  constructor(members: Member[]) {
    let list = members;
    let [byValue, byText] = MemberIndex.tables(list);
    const dropped = new Set<number>();
    const repeated = new Set<string>();
    members.forEach((member, i) => {
      const id = member?.instanceId;
      if (typeof id !== 'string') dropped.add(i);
      else if (MemberIndex.add(byValue, byText, id, i) >= 0) {
        dropped.add(i);
        if (!repeated.has(id)) this.duplicates.push(id);
        repeated.add(id);
      }
    });
    // Nearly always nothing is dropped and the list is used as given.
    if (dropped.size > 0) {
      list = members.filter((_, i) => !dropped.has(i));
      [byValue, byText] = MemberIndex.tables(list);
      for (let i = 0; i < list.length; i++) MemberIndex.add(byValue, byText, (list[i] as Member).instanceId, i);
    }
    this.members = list;
    this.byValue = byValue;
    this.byText = byText;
  }

  /** Empty tables for `list`; the text table is small, since nearly every id is canonical. */
  private static tables(list: Member[]): [InstanceIdIndex, StringIndex] {
    return [new InstanceIdIndex(list.length), new StringIndex((i) => (list[i] as Member).instanceId, 0)];
  }

  /** Indexes the id at position `i` in whichever table takes it; the position already holding it, or -1. */
  private static add(byValue: InstanceIdIndex, byText: StringIndex, id: string, i: number): number {
    const held = byValue.add(id, i);
    return held === NOT_CANONICAL ? byText.add(i) : held;
  }

  /** The member with this id, or undefined. */
  get(instanceId: string): Member | undefined {
    return typeof instanceId === 'string' ? this.members[this.find(instanceId, 0, instanceId.length)] : undefined;
  }

  /** The position in `members` of the id `text.slice(start, end)`, or -1. */
  find(text: string, start: number, end: number): number {
    const at = this.byValue.find(text, start, end);
    return at === NOT_CANONICAL ? this.byText.find(text, start, end) : at;
  }

  /**
   * `find` in two steps, for many ids: the id `text.slice(start, end)` is read
   * into entry `k` of `ids` (three words each) and QUEUED is returned, for
   * `findQueued` to look up together with the others; or, for an id in any
   * other spelling (rare), its position or -1 is returned now and the entry
   * is left to match nothing.
   */
  queue(text: string, start: number, end: number, ids: Int32Array, k: number): number {
    if (readInstanceIdInto(text, start, end, ids, k * 3)) return QUEUED;
    // No canonical id has a third word of 0 (see `readInstanceId`).
    ids[k * 3 + 2] = 0;
    return this.byText.find(text, start, end);
  }

  /** The positions (or -1) of the first `count` ids in `ids` that `queue` read, into `out` (see `InstanceIdIndex.findAll`). */
  findQueued(ids: Int32Array, count: number, out: Int32Array): void {
    this.byValue.findAll(ids, count, out);
  }
}
