/**
 * The members of a pass, one per instance id (the first entry wins), found
 * by id in O(1). Built on a `StringIndex`, so an id can be looked up where it
 * stands in a rule's description, and a fleet costs two typed arrays rather
 * than a hundred thousand map entries.
 */
import type { Member } from './model.js';
import { StringIndex } from './string-index.js';

export class MemberIndex {
  /** One member per instance id (the first given), in the order given. */
  readonly members: Member[];
  /** Instance ids that were listed more than once. */
  readonly duplicates: string[] = [];
  private readonly byId: StringIndex;

  constructor(members: Member[]) {
    let list = members;
    // The ids on their own: a lookup compares one, and reaching it through its member costs another memory access.
    let ids = members.map((m) => m?.instanceId);
    let byId = new StringIndex((i) => ids[i] as string, members.length);
    const dropped = new Set<number>();
    const repeated = new Set<string>();
    members.forEach((member, i) => {
      if (typeof member?.instanceId !== 'string') dropped.add(i);
      else if (byId.add(i) >= 0) {
        dropped.add(i);
        if (!repeated.has(member.instanceId)) this.duplicates.push(member.instanceId);
        repeated.add(member.instanceId);
      }
    });
    // Nearly always nothing is dropped and the list is used as given.
    if (dropped.size > 0) {
      list = members.filter((_, i) => !dropped.has(i));
      ids = list.map((m) => m.instanceId);
      byId = new StringIndex((i) => ids[i] as string, list.length);
      list.forEach((_, i) => byId.add(i));
    }
    this.members = list;
    this.byId = byId;
  }

  /** The member with this id, or undefined. */
  get(instanceId: string): Member | undefined {
    return typeof instanceId === 'string' ? this.members[this.byId.find(instanceId)] : undefined;
  }

  /** The position in `members` of the id `text.slice(start, end)`, or -1. */
  find(text: string, start: number, end: number): number {
    return this.byId.find(text, start, end);
  }
}
