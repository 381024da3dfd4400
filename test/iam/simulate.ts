/**
 * Asks an IAM policy simulator whether a policy allows one request. A request
 * the simulator cannot evaluate (an unknown action, a resource of the wrong
 * type, a context key the action does not take) throws: it must never pass
 * as "denied".
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { PolicyDocument } from '../../src/iam/policy.js';

export const ACCOUNT = '123456789012';

export interface IamRequest {
  /** Short description, for the test name. */
  what: string;
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
}

export type Decision = 'Allowed' | 'Denied';

/** Allowed, or Denied (implicitly or explicitly). */
export async function decide(policy: PolicyDocument, request: IamRequest): Promise<Decision> {
  const result = await runSimulation(
    {
      identityPolicies: [{ name: 'sgsync', policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: undefined,
      request: {
        action: request.action,
        principal: `arn:aws:iam::${ACCOUNT}:role/sgsync`,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: request.context ?? {},
      },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`cannot simulate ${request.what}: ${JSON.stringify(result.errors)}`);
  return result.overallResult === 'Allowed' ? 'Allowed' : 'Denied';
}

export const groupArn = (region: string, groupId: string, account = ACCOUNT) => `arn:aws:ec2:${region}:${account}:security-group/${groupId}`;
export const ruleArn = (region: string, account = ACCOUNT) => `arn:aws:ec2:${region}:${account}:security-group-rule/sgr-0123456789abcdef0`;

/** The request context of a rule created with these tags (TagSpecifications). */
export function requestTags(tags: Record<string, string>): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = { 'aws:TagKeys': Object.keys(tags) };
  for (const [k, v] of Object.entries(tags)) context[`aws:RequestTag/${k}`] = v;
  return context;
}
