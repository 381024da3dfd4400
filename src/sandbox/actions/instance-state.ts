import { Ec2Error, errors } from '../errors.js';
import type { Instance, InstanceStateName } from '../world.js';
import type { ActionContext, ActionHandler } from './context.js';
import { stateXml } from './instance-xml.js';
import { findInstances, transition } from './instances.js';

/**
 * StopInstances, StartInstances and TerminateInstances. Each answers with the
 * state the instance entered first (`stopping`, `pending`, `shutting-down`),
 * as AWS does, while the sandbox completes the change before it answers and
 * announces every step as an event. An instance already where the call would
 * take it is left alone and reported unchanged.
 */

interface Move {
  /** The states to pass through, or undefined when the instance is already there. */
  path?: readonly InstanceStateName[];
  /** Why the instance cannot make this move. */
  refusal?: Ec2Error;
}

type Planner = (instance: Instance) => Move;

const incorrect = (instance: Instance, verb: string) =>
  new Ec2Error('IncorrectInstanceState', `The instance '${instance.id}' is not in a state from which it can be ${verb}.`);

const stop: Planner = (instance) => {
  if (instance.spot) {
    return {
      refusal: new Ec2Error('UnsupportedOperation', `You can't stop the Spot Instance '${instance.id}' because it is associated with a one-time Spot Instance request. You can only stop Spot Instances associated with persistent Spot Instance requests.`),
    };
  }
  switch (instance.state) {
    case 'running':
      return { path: ['stopping', 'stopped'] };
    case 'stopping':
      return { path: ['stopped'] };
    case 'stopped':
      return {};
    default:
      return { refusal: incorrect(instance, 'stopped') };
  }
};

const start: Planner = (instance) => {
  switch (instance.state) {
    case 'stopped':
      return { path: ['pending', 'running'] };
    case 'pending':
    case 'running':
      return {};
    default:
      return { refusal: incorrect(instance, 'started') };
  }
};

const terminate: Planner = (instance) => {
  switch (instance.state) {
    case 'terminated':
      return {};
    case 'shutting-down':
      return { path: ['terminated'] };
    default:
      return { path: ['shutting-down', 'terminated'] };
  }
};

function stateChange(plan: Planner): ActionHandler {
  return (ctx: ActionContext) => {
    const ids = ctx.params.strList('InstanceId');
    if (ids.length === 0) throw errors.missing('InstanceId');
    const instances = findInstances(ctx.region, ids, ctx.now);
    const moves = instances.map((instance) => ({ instance, move: plan(instance) }));
    const refused = moves.find((m) => m.move.refusal);
    if (refused?.move.refusal) throw refused.move.refusal;
    if (ctx.dryRun) throw errors.dryRun();

    const instancesSet = moves.map(({ instance, move }) => {
      const previousState = instance.state;
      const path = move.path ?? [];
      transition(ctx, instance, path);
      return {
        instanceId: instance.id,
        currentState: stateXml(path[0] ?? instance.state),
        previousState: stateXml(previousState),
      };
    });
    return { instancesSet };
  };
}

export const stopInstances = stateChange(stop);
export const startInstances = stateChange(start);
export const terminateInstances = stateChange(terminate);
