/**
 * A DescribeInstances answer of 1,000 instances (one page), as the sandbox
 * gives it, made in this process without a server: what the parsing and
 * reading benchmarks read.
 */
import { handleEc2 } from '../../src/sandbox/ec2-endpoint.js';
import { Sandbox } from '../../src/sandbox/sandbox.js';

/** The answer's XML. The instances are tagged, one tag with characters XML escapes. */
export async function instancesPage(): Promise<string> {
  const sandbox = new Sandbox({ seed: 1 });
  const auth = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-west-1/ec2/aws4_request, SignedHeaders=host, Signature=0';
  const ask = async (params: Record<string, string>): Promise<string> => {
    const answer = await handleEc2(sandbox, new URLSearchParams({ Version: '2016-11-15', ...params }).toString(), auth);
    if (!('body' in answer) || answer.status !== 200) throw new Error(`the sandbox did not answer ${params.Action}`);
    return answer.body;
  };
  await ask({
    Action: 'RunInstances', ImageId: 'ami-12345678', MinCount: '1000', MaxCount: '1000',
    'TagSpecification.1.ResourceType': 'instance', 'TagSpecification.1.Tag.1.Key': 'role', 'TagSpecification.1.Tag.1.Value': 'api',
    'TagSpecification.1.Tag.2.Key': 'Name', 'TagSpecification.1.Tag.2.Value': 'api & <web>',
  });
  return ask({ Action: 'DescribeInstances', MaxResults: '1000' });
}
