// The AWS family: RDS (DatabasePlatform), S3 (ObjectStore), Route 53 (Dns), Secrets Manager (SecretStore).
export { createAwsClients, type AwsClients, type AwsSettings } from './clients';
export { createRdsDatabasePlatform, type RdsCredentials, type RdsEndpointResolver, type RdsPlatformOptions } from './rds/rds-database-platform';
export type { RdsInstanceFacts } from './rds/rds-data-path';
export { createS3ObjectStore, type S3ObjectStoreOptions } from './s3-object-store';
export { createRoute53Dns, type Route53DnsOptions } from './route53-dns';
export { createSecretsManagerSecretStore, type SecretsManagerStoreOptions } from './secrets-manager-secret-store';
