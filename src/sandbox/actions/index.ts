import type { ActionHandler } from './context.js';
import { describeInstances } from './describe-instances.js';
import { startInstances, stopInstances, terminateInstances } from './instance-state.js';
import { modifyInstanceMetadataOptions } from './instance-metadata.js';
import { assignIpv6Addresses, unassignIpv6Addresses } from './ipv6-addresses.js';
import { runInstances } from './run-instances.js';
import { describeRegions } from './regions.js';
import { authorizeSecurityGroupIngress, describeSecurityGroupRules, revokeSecurityGroupIngress } from './rules.js';
import { createSecurityGroup, deleteSecurityGroup, describeSecurityGroups } from './security-groups.js';
import { createTags, deleteTags, describeTags } from './tags.js';
import { createVpc, describeVpcs } from './vpcs.js';

/** Every EC2 action the sandbox answers, by its Query-API name. */
export const actions: Record<string, ActionHandler> = {
  DescribeRegions: describeRegions,
  CreateVpc: createVpc,
  DescribeVpcs: describeVpcs,
  CreateSecurityGroup: createSecurityGroup,
  DescribeSecurityGroups: describeSecurityGroups,
  DeleteSecurityGroup: deleteSecurityGroup,
  AuthorizeSecurityGroupIngress: authorizeSecurityGroupIngress,
  RevokeSecurityGroupIngress: revokeSecurityGroupIngress,
  DescribeSecurityGroupRules: describeSecurityGroupRules,
  CreateTags: createTags,
  DeleteTags: deleteTags,
  DescribeTags: describeTags,
  RunInstances: runInstances,
  DescribeInstances: describeInstances,
  StopInstances: stopInstances,
  StartInstances: startInstances,
  TerminateInstances: terminateInstances,
  ModifyInstanceMetadataOptions: modifyInstanceMetadataOptions,
  AssignIpv6Addresses: assignIpv6Addresses,
  UnassignIpv6Addresses: unassignIpv6Addresses,
};
