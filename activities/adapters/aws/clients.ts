import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { silenceAwsSdkNodeVersionWarning } from '../../../lib/aws-sdk-node20';

/** How the worker reaches AWS: the config's `aws` section. Credentials come from the SDK's default chain. */
export interface AwsSettings {
  /** The region of every client that is not given its own. */
  region: string;
  /** One endpoint for every service instead of AWS's (moto in the tests, a proxy); S3 then uses path-style addresses. */
  endpoint?: string;
  /** Attempts per call, the SDK's own retries with backoff (throttling, 5xx, network) included. */
  maxAttempts: number;
  /** Only for endpoints that are not AWS (moto takes any); AWS itself is reached with the default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** One client per service and region, built once. */
export interface AwsClients {
  rds(region?: string): RDSClient;
  s3(region?: string): S3Client;
  route53(): Route53Client;
  secretsManager(region?: string): SecretsManagerClient;
}

export function createAwsClients(settings: AwsSettings): AwsClients {
  silenceAwsSdkNodeVersionWarning();
  const cache = new Map<string, unknown>();
  const base = (region: string) => ({
    region,
    maxAttempts: settings.maxAttempts,
    // A region that is down must fail a call in seconds, not hang it: the runbook's own retries take over.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
  });
  const once = <T>(key: string, make: () => T): T => {
    if (!cache.has(key)) cache.set(key, make());
    return cache.get(key) as T;
  };
  return {
    rds: (region = settings.region) => once(`rds:${region}`, () => new RDSClient(base(region))),
    s3: (region = settings.region) => once(`s3:${region}`, () => new S3Client({ ...base(region), ...(settings.endpoint ? { forcePathStyle: true } : {}) })),
    // Route 53 is global: its API lives in us-east-1 whatever the zone serves.
    route53: () => once('route53', () => new Route53Client(base('us-east-1'))),
    secretsManager: (region = settings.region) => once(`secretsmanager:${region}`, () => new SecretsManagerClient(base(region))),
  };
}
