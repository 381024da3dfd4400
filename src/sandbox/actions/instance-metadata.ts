import { errors } from '../errors.js';
import type { ActionHandler } from './context.js';
import { findInstances } from './instances.js';
import { readMetadataTags } from './run-instances.js';

/**
 * ModifyInstanceMetadataOptions: of the instance metadata options, the
 * sandbox models whether IMDS shows the instance's tags
 * (`InstanceMetadataTags`); its IMDS always takes IMDSv2 tokens, and the
 * answer says so. The change applies at once (AWS answers `pending` and
 * applies it shortly after).
 */
export const modifyInstanceMetadataOptions: ActionHandler = (ctx) => {
  const { region, params, now } = ctx;
  const instanceId = params.required('InstanceId');
  const metadataTags = readMetadataTags(params.str('InstanceMetadataTags'), 'InstanceMetadataTags');
  const [instance] = findInstances(region, [instanceId], now);
  if (!instance) throw errors.missing('InstanceId');
  if (ctx.dryRun) throw errors.dryRun();
  if (metadataTags === 'disabled') instance.metadataTags = 'disabled';
  else if (metadataTags === 'enabled') delete instance.metadataTags;
  return {
    instanceId: instance.id,
    instanceMetadataOptions: {
      state: 'pending',
      httpTokens: 'required',
      httpPutResponseHopLimit: '2',
      httpEndpoint: 'enabled',
      httpProtocolIpv6: 'disabled',
      instanceMetadataTags: instance.metadataTags ?? 'enabled',
    },
  };
};
