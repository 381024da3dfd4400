import { randomUUID } from 'node:crypto';
import { actions } from './actions/index.js';
import { Ec2Error, errors } from './errors.js';
import { Params } from './query.js';
import type { Sandbox } from './sandbox.js';
import { errorXml, responseXml } from './xml.js';

export const API_VERSION = '2016-11-15';

/** What the EC2 endpoint answers: a status, an XML body, or a dropped connection. */
export type Ec2Answer = { status: number; body: string } | { drop: true };

/**
 * The region a request is for, from its SigV4 credential scope
 * (`Credential=AKID/20261126/eu-west-1/ec2/aws4_request`), in the
 * Authorization header or a presigned query.
 */
export function regionFromAuthorization(authorization: string | undefined, query?: URLSearchParams): string | undefined {
  const scope = /Credential=[^/\s,]+\/\d{8}\/([a-z0-9-]+)\/ec2\/aws4_request/.exec(authorization ?? '');
  if (scope) return scope[1];
  const credential = query?.get('X-Amz-Credential');
  return credential?.split('/')[2];
}

/**
 * Runs one EC2 Query request through the same steps AWS takes: parse,
 * authenticate (any credentials), fault injection, throttling, the action,
 * and counts the outcome.
 */
export async function handleEc2(sandbox: Sandbox, body: string, authorization: string | undefined): Promise<Ec2Answer> {
  const requestId = randomUUID();
  const fail = (e: Ec2Error): Ec2Answer => ({ status: e.status, body: errorXml(e.code, e.message, requestId) });

  let params: Params;
  try {
    params = Params.parse(body);
  } catch (e) {
    return fail(e instanceof Ec2Error ? e : errors.invalidValue('The request body is not a valid form-encoded EC2 query.'));
  }
  const action = params.str('Action');
  if (!action) return fail(new Ec2Error('MissingAction', 'The request must contain the parameter Action.'));
  const version = params.str('Version');
  if (!version) return fail(errors.missing('Version'));
  if (version !== API_VERSION) {
    return fail(new Ec2Error('InvalidParameterValue', `Version ${version} is not supported; the sandbox speaks ${API_VERSION}.`));
  }
  const regionName = regionFromAuthorization(authorization);
  if (!regionName) {
    return fail(new Ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials (no SigV4 credential scope).', 401));
  }
  const region = sandbox.world.region(regionName);
  const counted = region ? regionName : 'unknown';
  if (!region) {
    sandbox.counters.record(counted, action, 'failed');
    return fail(new Ec2Error('AuthFailure', `The region '${regionName}' is not enabled for this account.`, 401));
  }
  const handler = actions[action];
  if (!handler) {
    sandbox.counters.record(counted, action, 'failed');
    return fail(errors.invalidAction(action));
  }

  const fault = sandbox.faults.decide(action, regionName);
  if (fault?.latencyMs) await new Promise((r) => setTimeout(r, fault.latencyMs));
  if (fault?.drop) {
    sandbox.counters.record(regionName, action, 'faulted');
    return { drop: true };
  }
  if (fault?.error) {
    sandbox.counters.record(regionName, action, 'faulted');
    return fail(new Ec2Error(fault.error.code, fault.error.message, fault.error.status));
  }
  if (!sandbox.throttle.take(regionName, action, params)) {
    sandbox.counters.record(regionName, action, 'throttled');
    return fail(errors.throttled());
  }

  try {
    const dryRun = params.bool('DryRun') ?? false;
    const result = handler({
      world: sandbox.world,
      region,
      params,
      now: sandbox.world.clock.now(),
      events: sandbox.events,
      dryRun,
      instanceReadLagMs: sandbox.faults.instanceReadLagMs,
      ruleReadLagMs: sandbox.faults.ruleReadLagMs,
    });
    // A handler that forgot the dry-run check must still not report success.
    if (dryRun) throw errors.dryRun();
    sandbox.counters.record(regionName, action, 'ok');
    sandbox.changed();
    return { status: 200, body: responseXml(action, requestId, result) };
  } catch (e) {
    sandbox.counters.record(regionName, action, 'failed');
    if (e instanceof Ec2Error) return fail(e);
    sandbox.log(`internal error in ${action}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return fail(new Ec2Error('InternalError', 'An internal error has occurred.', 500));
  }
}
