import { describe, expect, it } from 'vitest';
import { handleEc2 } from './ec2-endpoint.js';
import { faultsConfigSchema } from './faults.js';
import { Sandbox } from './sandbox.js';

const AUTH = 'AWS4-HMAC-SHA256 Credential=AKID/20261126/eu-west-1/ec2/aws4_request, SignedHeaders=host, Signature=0';

async function call(sandbox: Sandbox, query: string): Promise<string> {
  const answer = await handleEc2(sandbox, `Version=2016-11-15&${query}`, AUTH);
  if (!('body' in answer) || answer.status !== 200) throw new Error(`${query}: ${JSON.stringify(answer)}`);
  return answer.body;
}

const listed = async (sandbox: Sandbox, extra = '') => [...(await call(sandbox, `Action=DescribeInstances${extra}`)).matchAll(/<instanceId>(i-[0-9a-f]+)<\/instanceId>/g)].map((m) => m[1]);

async function launch(sandbox: Sandbox): Promise<string> {
  const body = await call(sandbox, 'Action=RunInstances&ImageId=ami-0123456789abcdef0&InstanceType=t3.micro&MinCount=1&MaxCount=1');
  return /<instanceId>(i-[0-9a-f]+)<\/instanceId>/.exec(body)![1]!;
}

describe('read lag', () => {
  it('keeps a new instance out of DescribeInstances until it has been launched for the lag, on the sandbox clock', async () => {
    const sandbox = new Sandbox({ seed: 3 });
    const old = await launch(sandbox);
    sandbox.faults.set(faultsConfigSchema.parse({ rules: [], readLag: { instancesSeconds: 30 } }));
    sandbox.world.clock.advance(31_000);
    const fresh = await launch(sandbox);
    expect(await listed(sandbox)).toEqual([old]);
    expect(await listed(sandbox, `&InstanceId.1=${fresh}`)).toEqual([]);
    expect(await listed(sandbox, '&MaxResults=5')).toEqual([old]);
    sandbox.world.clock.advance(30_000);
    expect(await listed(sandbox)).toEqual([old, fresh]);
  });

  it('shows every instance at once without a lag, as by default', async () => {
    const sandbox = new Sandbox({ seed: 3 });
    sandbox.faults.set(faultsConfigSchema.parse({ rules: [], readLag: { instancesSeconds: 0 } }));
    const fresh = await launch(sandbox);
    expect(await listed(sandbox)).toEqual([fresh]);
  });

  it('keeps a new rule out of DescribeSecurityGroupRules for the lag, while writes already see it', async () => {
    const sandbox = new Sandbox({ seed: 3 });
    const vpc = /<vpcId>(vpc-[0-9a-f]+)<\/vpcId>/.exec(await call(sandbox, 'Action=CreateVpc&CidrBlock=10.0.0.0/16'))![1]!;
    const group = /<groupId>(sg-[0-9a-f]+)<\/groupId>/.exec(await call(sandbox, `Action=CreateSecurityGroup&GroupName=pool&GroupDescription=pool&VpcId=${vpc}`))![1]!;
    const permission = (cidr: string) => `&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=443&IpPermissions.1.ToPort=443&IpPermissions.1.IpRanges.1.CidrIp=${cidr}`;
    const rules = async () =>
      [...(await call(sandbox, `Action=DescribeSecurityGroupRules&Filter.1.Name=group-id&Filter.1.Value.1=${group}`)).matchAll(/<cidrIpv4>([^<]+)<\/cidrIpv4>/g)]
        .map((m) => m[1])
        .filter((cidr) => cidr !== '0.0.0.0/0'); // the group's default outbound rule
    await call(sandbox, `Action=AuthorizeSecurityGroupIngress&GroupId=${group}${permission('198.51.100.1/32')}`);
    sandbox.faults.set(faultsConfigSchema.parse({ rules: [], readLag: { rulesSeconds: 10 } }));
    sandbox.world.clock.advance(11_000);
    await call(sandbox, `Action=AuthorizeSecurityGroupIngress&GroupId=${group}${permission('198.51.100.2/32')}`);
    expect(await rules()).toEqual(['198.51.100.1/32']);
    // The write path is not behind: the hidden rule is still a duplicate.
    const again = await handleEc2(sandbox, `Version=2016-11-15&Action=AuthorizeSecurityGroupIngress&GroupId=${group}${permission('198.51.100.2/32')}`, AUTH);
    expect('body' in again ? again.body : '').toContain('InvalidPermission.Duplicate');
    sandbox.world.clock.advance(10_000);
    expect(await rules()).toEqual(['198.51.100.1/32', '198.51.100.2/32']);
  });

  it('is refused when negative or longer than a day', () => {
    expect(() => faultsConfigSchema.parse({ rules: [], readLag: { instancesSeconds: -1 } })).toThrow();
    expect(() => faultsConfigSchema.parse({ rules: [], readLag: { instancesSeconds: 86_401 } })).toThrow();
    expect(() => faultsConfigSchema.parse({ rules: [], readLag: { rulesSeconds: -1 } })).toThrow();
  });
});
