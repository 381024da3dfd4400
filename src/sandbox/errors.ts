/**
 * An error the sandbox answers with, in AWS's shape: an EC2 error code, a
 * message and the HTTP status AWS uses for that code.
 */
export class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'Ec2Error';
  }
}

/** Shorthands for the errors most handlers raise. */
export const errors = {
  missing: (name: string) => new Ec2Error('MissingParameter', `The request must contain the parameter ${name}`),
  invalidValue: (message: string) => new Ec2Error('InvalidParameterValue', message),
  combination: (message: string) => new Ec2Error('InvalidParameterCombination', message),
  unknownParameter: (name: string) => new Ec2Error('UnknownParameter', `The parameter ${name} is not recognized`),
  invalidAction: (action: string) =>
    new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`),
  throttled: () => new Ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503),
  unauthorized: (action: string) =>
    new Ec2Error('UnauthorizedOperation', `You are not authorized to perform this operation. (sandbox: ${action})`, 403),
  dryRun: () => new Ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412),
};
