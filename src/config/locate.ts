/**
 * Maps a key path such as `targets[0].ports[1]` back to the line and column
 * it came from in the YAML source, so errors point at the exact spot.
 */
import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export interface Position {
  line: number;
  column: number;
}

/** `targets[0].members.tags["aws:cloudformation:stack-name"]`: how users write paths. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const key = String(segment);
      out += /^[A-Za-z_$][\w$-]*$/.test(key) ? `${out === '' ? '' : '.'}${key}` : `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

function child(node: unknown, segment: PropertyKey): { value: unknown; key: unknown } | undefined {
  if (isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? p.key.value : p.key) === segment);
    return pair ? { value: pair.value, key: pair.key } : undefined;
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item: unknown = node.items[segment];
    return item === undefined ? undefined : { value: item, key: undefined };
  }
  return undefined;
}

function start(node: unknown, counter: LineCounter): Position | undefined {
  const range = (node as Partial<Node> | null | undefined)?.range;
  if (!range) return undefined;
  const { line, col } = counter.linePos(range[0]);
  return { line, column: col };
}

/**
 * The position of the value at `path` (or of its key, with `atKey`, for
 * unknown keys). When the path does not exist in the file, for a missing
 * key or a default, the nearest enclosing node is used.
 */
export function locate(doc: Document, counter: LineCounter, path: readonly PropertyKey[], atKey = false): Position {
  let node: unknown = doc.contents;
  let best = start(node, counter);
  for (const [i, segment] of path.entries()) {
    const next = child(node, segment);
    if (!next) break;
    const last = i === path.length - 1;
    node = next.value;
    best = (last && atKey ? start(next.key, counter) : undefined) ?? start(node, counter) ?? start(next.key, counter) ?? best;
  }
  return best ?? { line: 1, column: 1 };
}
