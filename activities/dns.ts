import { ApplicationFailure } from '@temporalio/common';
import type { Dns, DnsRecord, DnsSwitch } from './ports/dns';
import { FailureType } from '../contracts/failure-types';

/** DNS failover activities: names and host:port only, never credentials. */
export function createDnsActivities(dns: Dns) {
  return {
    async describeDnsTarget(input: { name: string }): Promise<DnsRecord | null> {
      return (await dns.currentTarget(input.name)) ?? null;
    },
    async switchDnsTarget(input: { name: string; target: string; ttlSeconds?: number }): Promise<DnsSwitch> {
      try {
        return await dns.switchTarget(input.name, input.target, { ttlSeconds: input.ttlSeconds });
      } catch (error) {
        // A malformed name or target will not become valid on retry.
        if (/^(name|target|ttlSeconds):/.test((error as Error).message)) throw ApplicationFailure.create({ type: FailureType.InvalidInput, message: (error as Error).message, nonRetryable: true });
        throw error;
      }
    },
  };
}
