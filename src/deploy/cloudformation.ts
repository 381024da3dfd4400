/**
 * CloudFormation templates for the Lambda controller: one stack in the
 * primary region (the function, its role, a schedule and a rule for EC2
 * state-change events), and one small stack in every other member region
 * that forwards that region's state-change events to the primary region's
 * default event bus. The schedule alone keeps everything correct; the events
 * only make cleanup fast.
 */
import type { LoadedConfig } from '../config/index.js';
import { REGION_PATTERN } from '../config/schema.js';
import { regionLeftOut } from '../controller/inventory.js';
import { SgsyncError } from '../core/errors.js';
import { iamPolicy } from '../iam/policy.js';
import { policySizeProblem } from '../iam/policy-size.js';

export type CfnValue = string | number | boolean | null | CfnValue[] | { [key: string]: CfnValue };
export interface CfnResource {
  Type: string;
  Properties: Record<string, CfnValue>;
}
export interface CfnTemplate {
  AWSTemplateFormatVersion: '2010-09-09';
  Description: string;
  Parameters?: Record<string, { Type: string; Description: string; Default?: string }>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Description: string; Value: CfnValue }>;
}

export interface CloudFormationOptions {
  config: LoadedConfig;
  /** The text of sgsync.yaml, baked into the function's environment as SGSYNC_CONFIG_YAML. */
  configYaml: string;
  /** The account of the target groups; default: the account the stack is deployed in. */
  accountId?: string;
  /** Where the controller runs; default: the region of the first target. */
  primaryRegion?: string;
  /** Member regions to forward events from, when the configuration does not list them. */
  memberRegions?: string[];
}

/**
 * The Lambda runtime of the controller function. AWS stops letting a stack
 * create functions on a runtime some months after its deprecation, and then
 * update them: `nodejs20.x` could not be created from 2026-06-01 (updates
 * from 2026-07-01), `nodejs22.x` cannot from 2027-06-01, `nodejs24.x` from
 * 2028-06-01. The bundle targets Node 20 and runs unchanged on the newest.
 */
export const LAMBDA_RUNTIME = 'nodejs24.x';

/** Lambda allows 4 KB of environment variables in all. */
const MAX_ENV_BYTES = 4096 - 64;

const STATE_CHANGE_PATTERN = {
  source: ['aws.ec2'],
  'detail-type': ['EC2 Instance State-change Notification'],
};

const sub = (text: string): CfnValue => ({ 'Fn::Sub': text });
const getAtt = (resource: string, attribute: string): CfnValue => ({ 'Fn::GetAtt': [resource, attribute] });
const assumeRole = (service: string): CfnValue => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
});

/** `rate(5 minutes)`: EventBridge schedules are whole minutes, at least one. */
export function scheduleExpression(intervalSeconds: number): string {
  const minutes = Math.max(1, Math.ceil(intervalSeconds / 60));
  return `rate(${minutes} minute${minutes === 1 ? '' : 's'})`;
}

/**
 * Refuses a region name that is not one: it names the stacks' files (where
 * `/../x` would write outside `--out`) and goes into every ARN.
 */
function checkRegion(option: '--primary-region' | '--member-regions', region: string): void {
  if (!REGION_PATTERN.test(region)) {
    throw new SgsyncError('USAGE', `${option} ${JSON.stringify(region)} is not an AWS region name such as eu-west-1. Give region names, comma-separated for --member-regions.`);
  }
}

/** A member region given that gets no forwarder, and why. */
export interface IgnoredRegion {
  region: string;
  why: string;
}

/**
 * The regions that matter for events. Member regions come from
 * `--member-regions` (the caller), else `controller.regions`, else the
 * targets' selectors; in each case only those whose events the controller
 * acts on (see regionLeftOut: the Lambda ignores the rest), so
 * `controller.regions` is narrowed to the selectors' regions when every
 * target lists them. Regions the caller named that are left out are in
 * `ignored`, to be told. When nothing names them, no region is forwarded and
 * the scheduled pass alone finds instances everywhere.
 *
 * Throws a usage error for a name that is not a region name.
 */
export function eventRegions(options: Pick<CloudFormationOptions, 'config' | 'primaryRegion' | 'memberRegions'>): {
  primary: string;
  members: string[];
  from: 'controller.regions' | 'members.regions' | 'option' | 'none';
  ignored: IgnoredRegion[];
} {
  const { config } = options;
  if (options.primaryRegion !== undefined) checkRegion('--primary-region', options.primaryRegion);
  for (const r of options.memberRegions ?? []) checkRegion('--member-regions', r);
  const primary = options.primaryRegion ?? config.targets[0]?.region ?? 'us-east-1';
  const pick = (regions: readonly string[], from: 'controller.regions' | 'members.regions' | 'option') => {
    const unique = [...new Set(regions)].sort();
    const left = unique.map((region) => ({ region, why: regionLeftOut(config, region) }));
    return {
      primary,
      members: left.filter((r) => r.why === undefined).map((r) => r.region),
      from,
      // Only regions the caller asked for: narrowing controller.regions to the selectors is what the configuration says.
      ignored: from === 'option' ? left.flatMap(({ region, why }) => (why !== undefined && region !== primary ? [{ region, why }] : [])) : [],
    };
  };
  if (options.memberRegions && options.memberRegions.length > 0) return pick(options.memberRegions, 'option');
  if (config.config.controller.regions) return pick(config.config.controller.regions, 'controller.regions');
  if (config.targets.every((t) => t.selector.regions !== undefined)) return pick(config.targets.flatMap((t) => t.selector.regions ?? []), 'members.regions');
  return { primary, members: [], from: 'none', ignored: [] };
}

/**
 * The controller's policy as the primary stack holds it: `sgsync iam policy
 * --role controller`, with each ARN's partition left to CloudFormation
 * (`${AWS::Partition}`), and its account too when none is given
 * (`${AWS::AccountId}`: EC2 changes only the caller's own groups). A
 * partition written into the template would deploy anywhere and then be
 * denied at run time in every other partition (aws-cn, aws-us-gov).
 */
export function stackControllerPolicy(options: Pick<CloudFormationOptions, 'config' | 'accountId'>): CfnValue {
  const policy = iamPolicy({ role: 'controller', config: options.config, accountId: options.accountId });
  const arn = (text: string): CfnValue => {
    const [prefix, , service = '', region = '', account = '', ...resource] = text.split(':');
    if (prefix !== 'arn') return text; // '*'
    return sub(['arn', '${AWS::Partition}', service, region, account === '*' ? '${AWS::AccountId}' : account, resource.join(':')].join(':'));
  };
  const statements: CfnValue[] = policy.Statement.map((s) => ({
    ...(s as unknown as Record<string, CfnValue>),
    Resource: Array.isArray(s.Resource) ? s.Resource.map(arn) : arn(s.Resource),
  }));
  return { Version: policy.Version, Statement: statements };
}

/**
 * Why the controller policy will not fit its role, or undefined when it will:
 * measured as IAM will count it, once CloudFormation has put in the partition
 * (`aws`; `aws-cn` and `aws-us-gov` add 3 and 7 characters to each ARN) and
 * a 12-digit account.
 */
export function stackPolicySizeProblem(options: Pick<CloudFormationOptions, 'config' | 'accountId'>): string | undefined {
  return policySizeProblem(iamPolicy({ role: 'controller', config: options.config, accountId: options.accountId ?? '000000000000' }), 'controller');
}

/** The primary region's stack: the controller Lambda, its role, its schedule and its state-change rule. */
export function primaryTemplate(options: CloudFormationOptions): CfnTemplate {
  const { config } = options;
  const deployment = config.config.deployment;
  if (Buffer.byteLength(options.configYaml) > MAX_ENV_BYTES) {
    throw new SgsyncError(
      'USAGE',
      `${config.file} is ${Buffer.byteLength(options.configYaml)} bytes; Lambda allows 4 KB of environment. Remove comments, or bundle the file and set SGSYNC_CONFIG instead.`,
    );
  }
  const interval = config.config.controller.intervalSeconds;
  const invokedBy = (rule: string): CfnResource => ({
    Type: 'AWS::Lambda::Permission',
    Properties: {
      Action: 'lambda:InvokeFunction',
      FunctionName: { Ref: 'ControllerFunction' },
      Principal: 'events.amazonaws.com',
      SourceArn: getAtt(rule, 'Arn'),
    },
  });
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `sgsync controller for deployment ${deployment}: scheduled passes and EC2 state-change events`,
    Parameters: {
      CodeS3Bucket: { Type: 'String', Description: 'S3 bucket holding sgsync-controller.zip (from npm run build:lambda), in this region' },
      CodeS3Key: { Type: 'String', Description: 'Key of the zip in the bucket', Default: 'sgsync-controller.zip' },
    },
    Resources: {
      ControllerRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: assumeRole('lambda.amazonaws.com'),
          ManagedPolicyArns: [sub('arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole')],
          Policies: [
            {
              PolicyName: `sgsync-controller-${deployment}`,
              PolicyDocument: stackControllerPolicy(options),
            },
          ],
        },
      },
      ControllerFunction: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Description: `sgsync controller (${deployment})`,
          Runtime: LAMBDA_RUNTIME,
          Handler: 'index.handler',
          Code: { S3Bucket: { Ref: 'CodeS3Bucket' }, S3Key: { Ref: 'CodeS3Key' } },
          Role: getAtt('ControllerRole', 'Arn'),
          // A pass must end before the next one starts; Lambda stops a function at 15 minutes.
          Timeout: Math.min(900, Math.max(60, interval)),
          MemorySize: 256,
          Environment: { Variables: { SGSYNC_CONFIG_YAML: options.configYaml } },
        },
      },
      ScheduleRule: {
        Type: 'AWS::Events::Rule',
        Properties: {
          Description: `sgsync ${deployment}: a full pass ${scheduleExpression(interval)} (controller.intervalSeconds ${interval}, in whole minutes)`,
          ScheduleExpression: scheduleExpression(interval),
          State: 'ENABLED',
          Targets: [{ Id: 'sgsync-controller', Arn: getAtt('ControllerFunction', 'Arn') }],
        },
      },
      SchedulePermission: invokedBy('ScheduleRule'),
      StateChangeRule: {
        Type: 'AWS::Events::Rule',
        Properties: {
          Description: `sgsync ${deployment}: EC2 state changes of this region and those forwarded from member regions`,
          EventPattern: STATE_CHANGE_PATTERN,
          State: 'ENABLED',
          Targets: [{ Id: 'sgsync-controller', Arn: getAtt('ControllerFunction', 'Arn') }],
        },
      },
      StateChangePermission: invokedBy('StateChangeRule'),
    },
    Outputs: {
      FunctionArn: { Description: 'The controller function', Value: getAtt('ControllerFunction', 'Arn') },
      EventBusArn: { Description: 'Where member regions forward their events', Value: sub('arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default') },
    },
  };
}

/** A member region's stack: its state-change events go to the primary region's default bus. */
export function forwarderTemplate(options: Pick<CloudFormationOptions, 'config'>, region: string, primary: string): CfnTemplate {
  const busArn = `arn:\${AWS::Partition}:events:${primary}:\${AWS::AccountId}:event-bus/default`;
  const deployment = options.config.config.deployment;
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `sgsync ${deployment}: forward EC2 state-change events from ${region} to ${primary}`,
    Resources: {
      ForwarderRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: assumeRole('events.amazonaws.com'),
          Policies: [
            {
              PolicyName: 'put-events-on-primary-bus',
              PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: sub(busArn) }] },
            },
          ],
        },
      },
      ForwardRule: {
        Type: 'AWS::Events::Rule',
        Properties: {
          Description: `sgsync ${deployment}: EC2 state changes in ${region}, to the controller in ${primary}`,
          EventPattern: STATE_CHANGE_PATTERN,
          State: 'ENABLED',
          Targets: [{ Id: 'primary-bus', Arn: sub(busArn), RoleArn: getAtt('ForwarderRole', 'Arn') }],
        },
      },
    },
  };
}

/** Every template of a deployment, with the file name each is written to. */
export function cloudFormationTemplates(options: CloudFormationOptions): { file: string; region: string; template: CfnTemplate }[] {
  const { primary, members } = eventRegions(options);
  return [
    { file: `primary-${primary}.json`, region: primary, template: primaryTemplate(options) },
    ...members
      .filter((r) => r !== primary)
      .map((r) => ({ file: `forwarder-${r}.json`, region: r, template: forwarderTemplate(options, r, primary) })),
  ];
}
