import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { silenceAwsSdkNodeVersionWarning } from '../../../../lib/aws-sdk-node20';

/** How the worker reaches ElastiCache (config cache.elasticache): credentials from the SDK's default chain. */
export interface ElastiCacheClientSettings {
  region: string;
  /** Instead of AWS's endpoint (moto in the tests). */
  endpoint?: string;
  /** Only for an endpoint that is not AWS. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Attempts per call, the SDK's own retries (throttling, 5xx, network) included. Default 5. */
  maxAttempts?: number;
}

export function createElastiCacheClient(settings: ElastiCacheClientSettings): ElastiCacheClient {
  silenceAwsSdkNodeVersionWarning();
  return new ElastiCacheClient({
    region: settings.region,
    maxAttempts: settings.maxAttempts ?? 5,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
  });
}
