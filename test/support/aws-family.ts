import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, PutObjectLockConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { MotoServer } from '../../stack/moto-server';
import type { WorkerConfig } from '../../worker/config';
import { primaryIdentifier } from './moto-rds';

export const evidenceBucket = 'mita-dr-evidence';
export const secretPrefix = 'mita/production/';
export const objectPrefix = 'dr-runbooks/production/';

/**
 * The operator's AWS account on moto for a scenario stack: every secret of the stack's secrets directory
 * (database passwords, the audit head's signing key, one-time code secrets) in Secrets Manager under the
 * seeds' prefix, and the evidence bucket with Object Lock.
 */
export async function prepareAwsAccount(moto: MotoServer, secretsDir: string, extraSecrets: Record<string, string> = {}): Promise<void> {
  const secrets = new SecretsManagerClient(moto.clientConfig());
  const fromFiles = Object.fromEntries(readdirSync(secretsDir).filter((name) => statSync(path.join(secretsDir, name)).isFile()).map((name) => [name, readFileSync(path.join(secretsDir, name), 'utf8').trim()]));
  for (const [name, value] of Object.entries({ ...fromFiles, ...extraSecrets })) {
    await secrets.send(new CreateSecretCommand({ Name: `${secretPrefix}${name}`, SecretString: value }));
  }
  const s3 = new S3Client(moto.s3ClientConfig());
  await s3.send(new CreateBucketCommand({ Bucket: evidenceBucket, ObjectLockEnabledForBucket: true }));
  await s3.send(new PutObjectLockConfigurationCommand({ Bucket: evidenceBucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } }));
}

/**
 * The same worker config with only the adapter families changed to aws: RDS for the platform, S3 for the
 * diffs and the report (reports locked as evidence), Secrets Manager for every secret.
 */
export function onAwsFamily(moto: MotoServer): (config: WorkerConfig) => WorkerConfig {
  return (config) => ({
    ...config,
    secretsDir: undefined,
    aws: { region: 'us-east-1', endpoint: moto.endpoint, maxAttempts: 3 },
    platform: { rds: {
      instances: { production: { identifier: primaryIdentifier, region: 'us-east-1' } },
      multiAz: false, regions: {}, tags: { team: 'platform' }, finalSnapshot: 'skip', protectedInstances: [], promotedBackupRetentionDays: 7,
      pollIntervalSeconds: 0.5, waitTimeoutSeconds: 300, connectTimeoutSeconds: 2,
    } },
    objectStore: { s3: { bucket: evidenceBucket, prefix: objectPrefix, objectLock: { days: 1, prefixes: ['reports/'] } } },
    secretStore: { secretsManager: { namePrefix: secretPrefix } },
  });
}
