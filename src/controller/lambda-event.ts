import { INSTANCE_ID_PATTERN } from '../core/instance-id-index.js';
import { INSTANCE_STATES, type InstanceState } from '../core/model.js';

/** What an invocation asks for. */
export type LambdaWork =
  | { kind: 'schedule' }
  | { kind: 'instance'; instanceId: string; region: string; state: InstanceState }
  | { kind: 'ignored'; reason: string };

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function show(v: unknown): string {
  if (typeof v === 'string') return `"${v.slice(0, 80)}"`;
  return v === undefined ? 'none' : (JSON.stringify(v) ?? typeof v).slice(0, 80);
}

/**
 * Reads an EventBridge event. A `Scheduled Event` (from an EventBridge rule
 * with a schedule, or an EventBridge Scheduler input that names itself so)
 * asks for a full pass. An `EC2
 * Instance State-change Notification` asks for a pass scoped to its
 * instance, in the region the event names — forwarded events keep the
 * region they were raised in. `pending` is ignored: there is nothing to
 * admit until the instance runs, and its `running` event follows.
 * Anything else is ignored with a reason rather than thrown, because Lambda
 * would retry a thrown event and a malformed one never gets better.
 */
export function parseLambdaEvent(event: unknown): LambdaWork {
  const e = record(event);
  if (!e) return { kind: 'ignored', reason: `the event is not an object but ${show(event)}` };
  const type = e['detail-type'];
  if (type === 'Scheduled Event') return { kind: 'schedule' };
  if (type !== 'EC2 Instance State-change Notification') {
    return { kind: 'ignored', reason: `unrecognised event: detail-type ${show(type)}, source ${show(e.source)}` };
  }
  const detail = record(e.detail);
  const instanceId = detail?.['instance-id'];
  const state = detail?.state;
  const region = e.region;
  if (typeof instanceId !== 'string' || !INSTANCE_ID_PATTERN.test(instanceId)) {
    return { kind: 'ignored', reason: `state-change event without a valid detail.instance-id (got ${show(instanceId)})` };
  }
  if (typeof region !== 'string' || !REGION.test(region)) {
    return { kind: 'ignored', reason: `state-change event for ${instanceId} without a valid region (got ${show(region)})` };
  }
  if (typeof state !== 'string' || !(INSTANCE_STATES as readonly string[]).includes(state)) {
    return { kind: 'ignored', reason: `state-change event for ${instanceId} with an unknown state ${show(state)}` };
  }
  if (state === 'pending') return { kind: 'ignored', reason: `${instanceId} is pending; it is admitted when it is running` };
  return { kind: 'instance', instanceId, region, state: state as InstanceState };
}
