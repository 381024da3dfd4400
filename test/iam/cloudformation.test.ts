import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import type { CfnTemplate, CfnValue } from '../../src/deploy/cloudformation.js';
import { runInProcess } from './cli.js';

const DEMO = fileURLToPath(new URL('../../examples/demo.yaml', import.meta.url));
const ACCOUNT = '123456789012';

/** Properties CloudFormation requires, per resource type used (`oneOf`: at least one of them). */
const REQUIRED: Record<string, { all: string[]; oneOf?: string[] }> = {
  'AWS::Lambda::Function': { all: ['Code', 'Role', 'Runtime', 'Handler'] },
  'AWS::IAM::Role': { all: ['AssumeRolePolicyDocument'] },
  'AWS::Events::Rule': { all: ['Targets'], oneOf: ['ScheduleExpression', 'EventPattern'] },
  'AWS::Lambda::Permission': { all: ['Action', 'FunctionName', 'Principal'] },
};
const PSEUDO = new Set(['AWS::AccountId', 'AWS::Partition', 'AWS::Region', 'AWS::StackName', 'AWS::StackId', 'AWS::URLSuffix', 'AWS::NoValue']);

/** Every name a template refers to through Ref, Fn::GetAtt and Fn::Sub. */
function references(value: CfnValue, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => references(v, out));
  else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'Ref' && typeof v === 'string') out.push(v);
      else if (key === 'Fn::GetAtt' && Array.isArray(v) && typeof v[0] === 'string') out.push(v[0]);
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(v) ? v[0] : v;
        if (typeof text !== 'string') throw new Error(`Fn::Sub needs a string, not ${JSON.stringify(v)}`);
        for (const m of text.matchAll(/\$\{([^}!][^}]*)\}/g)) out.push(m[1]!.split('.')[0]!);
      } else references(v, out);
    }
  }
  return out;
}

/** `value` with every Fn::Sub replaced by its text, the variables in `vars` put in, as CloudFormation does on deploying. */
function resolveSub(value: CfnValue, vars: Record<string, string>): CfnValue {
  if (Array.isArray(value)) return value.map((v) => resolveSub(v, vars));
  if (value === null || typeof value !== 'object') return value;
  const text = value['Fn::Sub'];
  if (typeof text === 'string') {
    return text.replace(/\$\{([^}]+)\}/g, (all, name: string) => {
      if (vars[name] === undefined) throw new Error(`no value for ${all}`);
      return vars[name];
    });
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveSub(v, vars)]));
}

/** What `sgsync iam policy --role controller` prints for the demo, with `args`. */
async function iamPolicyOutput(args: string[]): Promise<unknown> {
  const iam = await runInProcess(['iam', 'policy', '--role', 'controller', '-c', DEMO, ...args]);
  expect(iam.exitCode, iam.stderr).toBe(0);
  return JSON.parse(iam.stdout);
}

let dir: string;
let templates: Record<string, CfnTemplate>;
let deployStderr: string;
let controllerPolicy: unknown;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sgsync-cfn-'));
  const deploy = await runInProcess(['deploy', 'cloudformation', '-c', DEMO, '--account', ACCOUNT, '--out', dir]);
  expect(deploy.exitCode).toBe(0);
  deployStderr = deploy.stderr;
  templates = {};
  for (const file of await readdir(dir)) templates[file] = JSON.parse(await readFile(join(dir, file), 'utf8')) as CfnTemplate;
  const iam = await runInProcess(['iam', 'policy', '--role', 'controller', '-c', DEMO, '--account', ACCOUNT]);
  expect(iam.exitCode).toBe(0);
  controllerPolicy = JSON.parse(iam.stdout);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const primary = () => templates['primary-us-east-1.json']!;

describe('sgsync deploy cloudformation for the demo configuration', () => {
  it('writes the primary template for us-east-1 and a forwarder for each member region', () => {
    expect(Object.keys(templates).sort()).toEqual([
      'forwarder-ap-southeast-2.json',
      'forwarder-eu-west-1.json',
      'forwarder-sa-east-1.json',
      'forwarder-us-west-2.json',
      'primary-us-east-1.json',
    ]);
    expect(deployStderr).not.toMatch(/no member regions/);
  });

  it('gives every resource the properties CloudFormation requires', () => {
    const missing: string[] = [];
    for (const [file, t] of Object.entries(templates)) {
      for (const [name, r] of Object.entries(t.Resources)) {
        const rule = REQUIRED[r.Type];
        if (!rule) {
          missing.push(`${file} ${name}: no required-property table for ${r.Type}`);
          continue;
        }
        for (const p of rule.all) if (r.Properties[p] === undefined) missing.push(`${file} ${name}.${p}`);
        if (rule.oneOf && !rule.oneOf.some((p) => r.Properties[p] !== undefined)) missing.push(`${file} ${name}: one of ${rule.oneOf.join(', ')}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('refers only to parameters, resources and pseudo-parameters that exist', () => {
    const dangling: string[] = [];
    for (const [file, t] of Object.entries(templates)) {
      const known = new Set([...Object.keys(t.Parameters ?? {}), ...Object.keys(t.Resources), ...PSEUDO]);
      const refs = references(t as unknown as CfnValue);
      expect(refs.length, file).toBeGreaterThan(0);
      for (const name of refs) if (!known.has(name)) dangling.push(`${file}: ${name}`);
    }
    expect(dangling).toEqual([]);
  });

  it("gives the controller's role exactly the policy `sgsync iam policy --role controller` prints, in whichever partition it is deployed", async () => {
    const role = primary().Resources.ControllerRole!.Properties as { Policies: { PolicyDocument: CfnValue }[]; ManagedPolicyArns: unknown };
    expect(role.Policies).toHaveLength(1);
    const document = role.Policies[0]!.PolicyDocument;
    expect(resolveSub(document, { 'AWS::Partition': 'aws' })).toEqual(controllerPolicy);
    expect(resolveSub(document, { 'AWS::Partition': 'aws-cn' })).toEqual(await iamPolicyOutput(['--account', ACCOUNT, '--partition', 'aws-cn']));
    expect(JSON.stringify(document)).not.toContain('arn:aws:');
    expect(JSON.stringify(role.ManagedPolicyArns)).toContain('service-role/AWSLambdaBasicExecutionRole');
  });

  it('names the account of the stack in the policy when no --account is given', async () => {
    const deploy = await runInProcess(['deploy', 'cloudformation', '-c', DEMO]);
    expect(deploy.exitCode, deploy.stderr).toBe(0);
    const template = (JSON.parse(deploy.stdout) as Record<string, CfnTemplate>)['primary-us-east-1.json']!;
    const document = (template.Resources.ControllerRole!.Properties as { Policies: { PolicyDocument: CfnValue }[] }).Policies[0]!.PolicyDocument;
    expect(resolveSub(document, { 'AWS::Partition': 'aws-us-gov', 'AWS::AccountId': '210987654321' })).toEqual(
      await iamPolicyOutput(['--account', '210987654321', '--partition', 'aws-us-gov']),
    );
    expect(deploy.stderr).not.toMatch(/any account/);
  });

  it('says that --partition is ignored, and leaves the partition to CloudFormation', async () => {
    const deploy = await runInProcess(['deploy', 'cloudformation', '-c', DEMO, '--account', ACCOUNT, '--partition', 'aws-cn']);
    expect(deploy.exitCode, deploy.stderr).toBe(0);
    expect(deploy.stderr).toContain('warning: --partition aws-cn is ignored: the template\'s ARNs name the partition of the region the stack is deployed in (${AWS::Partition}).\n');
    expect(deploy.stdout).not.toMatch(/arn:aws(-cn)?:/);
  });

  it('runs the bundle of npm run build:lambda from the code parameters, with the configuration in its environment', async () => {
    const fn = primary().Resources.ControllerFunction!.Properties;
    expect(fn).toMatchObject({ Runtime: 'nodejs24.x', Handler: 'index.handler', Code: { S3Bucket: { Ref: 'CodeS3Bucket' }, S3Key: { Ref: 'CodeS3Key' } } });
    const yaml = (fn.Environment as { Variables: { SGSYNC_CONFIG_YAML: string } }).Variables.SGSYNC_CONFIG_YAML;
    expect(yaml).toBe(await readFile(DEMO, 'utf8'));
    expect(parseConfig(yaml, 'SGSYNC_CONFIG_YAML').config.deployment).toBe('demo');
    expect(primary().Parameters?.CodeS3Key?.Default).toBe('sgsync-controller.zip');
  });

  it('runs a pass on the schedule of controller.intervalSeconds and on EC2 state changes, each allowed to invoke the function', () => {
    const r = primary().Resources;
    expect(r.ScheduleRule!.Properties.ScheduleExpression).toBe('rate(1 minute)'); // demo: intervalSeconds 30
    expect(r.StateChangeRule!.Properties.EventPattern).toEqual({ source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'] });
    for (const [rule, permission] of [['ScheduleRule', 'SchedulePermission'], ['StateChangeRule', 'StateChangePermission']] as const) {
      expect(r[rule]!.Properties.Targets).toEqual([{ Id: 'sgsync-controller', Arn: { 'Fn::GetAtt': ['ControllerFunction', 'Arn'] } }]);
      expect(r[permission]!.Properties).toEqual({
        Action: 'lambda:InvokeFunction',
        FunctionName: { Ref: 'ControllerFunction' },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [rule, 'Arn'] },
      });
    }
  });

  it.each(['eu-west-1', 'ap-southeast-2', 'us-west-2', 'sa-east-1'])('forwards state changes from %s to the default bus of us-east-1, and may put events on that bus only', (region) => {
    const t = templates[`forwarder-${region}.json`]!;
    const bus = { 'Fn::Sub': 'arn:${AWS::Partition}:events:us-east-1:${AWS::AccountId}:event-bus/default' };
    expect(t.Resources.ForwardRule!.Properties).toMatchObject({
      EventPattern: { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'] },
      Targets: [{ Arn: bus, RoleArn: { 'Fn::GetAtt': ['ForwarderRole', 'Arn'] } }],
    });
    const role = t.Resources.ForwarderRole!.Properties as { AssumeRolePolicyDocument: unknown; Policies: { PolicyDocument: unknown }[] };
    expect(JSON.stringify(role.AssumeRolePolicyDocument)).toContain('events.amazonaws.com');
    expect(role.Policies.map((p) => p.PolicyDocument)).toEqual([{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: bus }] }]);
  });
});
