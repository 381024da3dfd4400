import { Ec2Error, errors } from './errors.js';

/** EC2's limits on a request's filters (the sandbox keeps its own copy of AWS's facts, apart from the client's). */
const MAX_FILTER_VALUES = 200;
const MAX_FILTER_VALUE_LENGTH = 255;

interface Node {
  value?: string;
  children: Map<string, Node>;
}

/**
 * The parameters of one EC2 Query request, as the tree the dotted names
 * describe: `IpPermissions.1.IpRanges.2.CidrIp=…` becomes a path of nodes.
 * Lists are the numbered children of a node, in numeric order (EC2's
 * serialisation is 1-based and flattened).
 */
export class Params {
  private constructor(
    private readonly node: Node,
    private readonly path: string,
  ) {}

  /** Parses a form-encoded body. Throws an AWS-style error for names that are not well formed. */
  static parse(body: string): Params {
    const root: Node = { children: new Map() };
    for (const [key, value] of new URLSearchParams(body)) {
      if (key.length === 0 || key.length > 256) throw errors.unknownParameter(key.slice(0, 64));
      let node = root;
      for (const segment of key.split('.')) {
        if (segment.length === 0) throw errors.unknownParameter(key);
        let child = node.children.get(segment);
        if (!child) {
          child = { children: new Map() };
          node.children.set(segment, child);
        }
        node = child;
      }
      node.value = value;
    }
    return new Params(root, '');
  }

  private name(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  /** Every `name=value` pair under this node, with full dotted names, sorted. */
  flat(): [string, string][] {
    const out: [string, string][] = [];
    const walk = (node: Node, prefix: string) => {
      if (node.value !== undefined && prefix) out.push([prefix, node.value]);
      for (const [k, child] of node.children) walk(child, prefix ? `${prefix}.${k}` : k);
    };
    walk(this.node, '');
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  /** The top-level or member names present (used to refuse unknown parameters). */
  keys(): string[] {
    return [...this.node.children.keys()];
  }

  has(key: string): boolean {
    return this.node.children.has(key);
  }

  str(key: string): string | undefined {
    return this.node.children.get(key)?.value;
  }

  required(key: string): string {
    const v = this.str(key);
    if (v === undefined || v === '') throw errors.missing(this.name(key));
    return v;
  }

  int(key: string, opts: { min?: number; max?: number } = {}): number | undefined {
    const raw = this.str(key);
    if (raw === undefined) return undefined;
    if (!/^-?\d{1,10}$/.test(raw)) throw errors.invalidValue(`Invalid value '${raw}' for ${this.name(key)}: not an integer.`);
    const n = Number(raw);
    if ((opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
      throw errors.invalidValue(
        `Value ( ${raw} ) for parameter ${this.name(key)} is invalid. Expected a value between ${opts.min ?? '-∞'} and ${opts.max ?? '∞'}.`,
      );
    }
    return n;
  }

  bool(key: string): boolean | undefined {
    const raw = this.str(key);
    if (raw === undefined) return undefined;
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    throw errors.invalidValue(`Invalid value '${raw}' for ${this.name(key)}: expected true or false.`);
  }

  /** The numbered members of a list, in order: `Filter.1`, `Filter.2`, … */
  list(key: string): Params[] {
    const node = this.node.children.get(key);
    if (!node) return [];
    const items: [number, Node][] = [];
    for (const [segment, child] of node.children) {
      if (!/^[1-9]\d{0,5}$/.test(segment)) throw errors.unknownParameter(`${this.name(key)}.${segment}`);
      items.push([Number(segment), child]);
    }
    items.sort((a, b) => a[0] - b[0]);
    return items.map(([i, child]) => new Params(child, `${this.name(key)}.${i}`));
  }

  /** A list of plain strings: `InstanceId.1=…&InstanceId.2=…`. */
  strList(key: string): string[] {
    return this.list(key).map((p) => {
      if (p.node.value === undefined) throw errors.invalidValue(`${p.path} must be a value, not a structure.`);
      return p.node.value;
    });
  }

  /** `Tag.N.Key` / `Tag.N.Value` pairs. */
  tags(key: string): { key: string; value: string }[] {
    return this.list(key).map((t) => ({ key: t.required('Key'), value: t.str('Value') ?? '' }));
  }

  /**
   * `Filter.N.Name` / `Filter.N.Value.M`, within EC2's limits: 200 values in
   * all the filters of a request, 255 characters a value.
   */
  filters(key = 'Filter'): { name: string; values: string[] }[] {
    let count = 0;
    return this.list(key).map((f) => {
      const name = f.required('Name');
      const values = f.strList('Value');
      if (values.length === 0) throw new Ec2Error('InvalidParameterValue', `The filter '${name}' requires at least one value.`);
      count += values.length;
      if (count > MAX_FILTER_VALUES) throw new Ec2Error('FilterLimitExceeded', `The maximum number of filter values specified on a single call is ${MAX_FILTER_VALUES}`);
      if (values.some((v) => v.length > MAX_FILTER_VALUE_LENGTH)) {
        throw new Ec2Error('FilterLimitExceeded', `The maximum length for a filter value is ${MAX_FILTER_VALUE_LENGTH} characters`);
      }
      return { name, values };
    });
  }
}
