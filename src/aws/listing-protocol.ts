/**
 * EC2's query protocol, reading only the parts of a DescribeInstances
 * answer that sgsync uses.
 *
 * The SDK reads an answer by walking its output schema: for every instance
 * it visits each of the sixty-odd members of `Instance` and descends into
 * the nested ones (block devices, network interfaces, options). sgsync needs
 * ten. This protocol gives the SDK's own deserializer a projection of the
 * output schema: the SDK's member schemas (names, XML names, types,
 * timestamps) for the members `toMember` reads, and no others. Parsing,
 * errors, retries and metadata stay the SDK's; what a listing returns is the
 * SDK's object with the other members left out.
 *
 * Every other action reads as the SDK reads it. Reading a page of 1,000
 * instances takes about three quarters of the time it did (68–85% over ten
 * runs of `npx tsx bench/describe-instances-read.ts`; docs/decisions/0007).
 */
import { DescribeInstancesResult$, type Instance } from '@aws-sdk/client-ec2';
import { AwsEc2QueryProtocol } from '@aws-sdk/core/protocols';
import { ParseTurns } from './parse-turns.js';

/** The members of an output kept: `true` keeps a member whole, an object keeps those of its members. */
export interface Projection {
  [member: string]: true | Projection;
}

/** What a listing keeps of each instance: every member `toMember` reads. */
export const LISTED_INSTANCE = {
  InstanceId: true,
  State: { Name: true },
  PublicIpAddress: true,
  PrivateIpAddress: true,
  Ipv6Address: true,
  NetworkInterfaces: { Attachment: { DeviceIndex: true }, Ipv6Addresses: { Ipv6Address: true } },
  Tags: { Key: true, Value: true },
  LaunchTime: true,
  InstanceType: true,
} as const satisfies Projection & { [K in keyof Instance]?: unknown };

/** An instance as a listing gives it. */
export type ListedInstance = Pick<Instance, keyof typeof LISTED_INSTANCE>;

/** What a listing keeps of a DescribeInstances answer: the page token, and each reservation's owner and instances. */
export const DESCRIBE_INSTANCES_OUTPUT = { NextToken: true, Reservations: { OwnerId: true, Instances: LISTED_INSTANCE } } satisfies Projection;

/*
 * The SDK's static schemas are arrays: a structure is [3, namespace, name,
 * traits, member names, member schemas], a list [1, namespace, name, traits,
 * member schema], and a member schema [schema or a function returning it,
 * member traits].
 */
type Schema = readonly unknown[];
type MemberSchema = readonly [unknown, unknown];
const STRUCTURE = 3;
const LIST = 1;

const deref = (ref: unknown): unknown => (typeof ref === 'function' ? (ref as () => unknown)() : ref);

/** `struct` with only the members `keep` names; throws when one is not a member (the SDK changed). */
function projectStructure(struct: Schema, keep: Projection): Schema {
  const [kind, namespace, name, traits, names, members] = struct as [number, string, string, unknown, string[], MemberSchema[]];
  const keptNames: string[] = [];
  const keptMembers: unknown[] = [];
  for (const [member, inner] of Object.entries(keep)) {
    const at = names.indexOf(member);
    if (at < 0) throw new Error(`the SDK's ${name} schema has no member ${member}`);
    keptNames.push(member);
    keptMembers.push(inner === true ? members[at] : projectMember(members[at] as MemberSchema, inner, `${name}.${member}`));
  }
  return [kind, namespace, name, traits, keptNames, keptMembers];
}

/** A member schema whose structure (or list of structures) keeps only what `keep` names. */
function projectMember(member: MemberSchema, keep: Projection, where: string): MemberSchema {
  const [ref, traits] = member;
  const target = deref(ref) as Schema;
  if (target[0] === STRUCTURE) return [projectStructure(target, keep), traits];
  if (target[0] === LIST) {
    const [kind, namespace, name, listTraits, value] = target as [number, string, string, unknown, MemberSchema];
    return [[kind, namespace, name, listTraits, projectMember(value, keep, where)], traits];
  }
  throw new Error(`the SDK's schema of ${where} is neither a structure nor a list`);
}

/** The projected output schema of each action read this way, by action name. */
const PROJECTED = new Map<string, Schema>([['DescribeInstances', projectStructure(DescribeInstancesResult$, DESCRIBE_INSTANCES_OUTPUT)]]);

type Deserialize = AwsEc2QueryProtocol['deserializeResponse'];
/** Every output the SDK deserializes carries `$metadata` (the SDK's `MetadataBearer`). */
type Output = Awaited<ReturnType<Deserialize>>;

/** Every EC2 client of the process reads its answers in turns (see ParseTurns). */
const turns = new ParseTurns();

/**
 * The EC2 clients' protocol (the `protocol` client option): the SDK's, with projected outputs, each
 * answer read whole first and then parsed in a turn of the event loop of its own.
 */
export class ListingProtocol extends AwsEc2QueryProtocol {
  override async deserializeResponse<O extends Output>(operationSchema: Parameters<Deserialize>[0], context: Parameters<Deserialize>[1], response: Parameters<Deserialize>[2]): Promise<O> {
    // The operation's name, namespaced or not.
    const { name } = operationSchema;
    const projected = PROJECTED.get(name.slice(name.indexOf('#') + 1));
    const schema = projected ? { ...operationSchema, output: projected as typeof operationSchema.output } : operationSchema;
    // The SDK reads a body it is given as bytes at once, so the whole parse happens in the turn.
    if (response.body !== undefined && !(response.body instanceof Uint8Array)) response.body = await context.streamCollector(response.body);
    return turns.run(() => super.deserializeResponse<O>(schema, context, response));
  }
}
