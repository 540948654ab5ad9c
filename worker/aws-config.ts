import { z } from 'zod';

// The AWS family's config keys: how the worker reaches AWS (`aws`), the RDS platform (`platform.rds`),
// the S3 object store (`objectStore.s3`), Route 53 (`dns.route53`) and Secrets Manager
// (`secretStore.secretsManager`). Credentials are never here: the SDK's default chain finds them (the
// pod's IAM role through IRSA or EKS Pod Identity, an instance profile, AWS_PROFILE).

const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region, e.g. us-east-1');
const instanceId = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "must be an instance id: 1-63 of a-z, 0-9 and '-', starting with a letter");
const rdsIdentifier = z.string().regex(/^(arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:db:)?[A-Za-z](?!.*--)[A-Za-z0-9-]{0,62}$/, "must be an RDS DB instance identifier (1-63 letters, digits and '-', starting with a letter) or its ARN");
const tagKeyPattern = /^(?!aws:)[\p{L}\p{N}\s_.:/=+\-@]{1,128}$/u;
const tagValue = z.string().regex(/^[\p{L}\p{N}\s_.:/=+\-@]{0,256}$/u, 'must be a tag value: up to 256 letters, digits, spaces and _ . : / = + - @');
/** Tags by key; a bad key is named (a record's own key check would only say "Invalid key"). */
const tags = z.record(z.string(), tagValue).superRefine((record, ctx) => {
  for (const key of Object.keys(record).filter((k) => !tagKeyPattern.test(k))) ctx.addIssue({ code: 'custom', path: [key], message: 'must be a tag key: up to 128 letters, digits, spaces and _ . : / = + - @, not starting with aws:' });
});
const kmsKey = z.string().min(1).describe('a KMS key id, ARN or alias/…');

/** How the worker reaches AWS, for every AWS adapter. */
export const awsConfig = z.strictObject({
  /** The region of every client without its own (Secrets Manager, S3); RDS instances name theirs. */
  region,
  /** One endpoint for every AWS service instead of AWS's own: moto in the tests, a proxy. Unset in production. */
  endpoint: z.string().url().optional(),
  /** Attempts per call, the SDK's own backoff included (throttling, 5xx, network). */
  maxAttempts: z.number().int().min(1).max(20).default(5),
});

const rdsInstance = z.strictObject({
  /** Its DBInstanceIdentifier (then give its region) or its ARN. */
  identifier: rdsIdentifier,
  region: region.optional(),
  /** The database of `databases` whose user and password sign in to it (and to what is built from it); default: the one with the instance's own name. */
  database: z.string().min(1).optional(),
});

const rdsRegion = z.strictObject({
  subnetGroup: z.string().min(1).optional(),
  parameterGroup: z.string().min(1).optional(),
  optionGroup: z.string().min(1).optional(),
  securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id, e.g. sg-0123456789abcdef0')).optional(),
  /** For a read replica built in this region from an encrypted source (restores keep their snapshot's key). */
  kmsKeyId: kmsKey.optional(),
});

/** Amazon RDS for PostgreSQL as the DatabasePlatform. */
export const rdsPlatformConfig = z.strictObject({
  /**
   * The instances the platform is enrolled with, by the instance id runbooks name: `production` (the
   * primary, under its database's name) and the standbys (`dr-replica`). A runbook never deletes one.
   */
  instances: z.record(instanceId, rdsInstance).refine((i) => Object.keys(i).length > 0, 'must enrol at least the primary (e.g. production: { identifier: mita-production-primary, region: us-east-1 })'),
  /** What a step builds: its instance class (the source's when omitted), Multi-AZ, and per region its network, parameters and key. */
  instanceClass: z.string().regex(/^db\.[a-z0-9-]+\.[a-z0-9]+$/, 'must be an RDS instance class, e.g. db.r6g.large').optional(),
  multiAz: z.boolean().default(false),
  regions: z.record(region, rdsRegion).default({}),
  /** Tags on everything built, beside dr-runbooks:created-by, dr-runbooks:workflow-id and dr-runbooks:incident-id. */
  tags: tags.default({}),
  /** `take`: a final snapshot `<instance>-final` when a runbook deletes what it built; `skip`: none (drills). */
  finalSnapshot: z.enum(['take', 'skip'], { error: 'must be "take" (a final snapshot before deleting) or "skip"' }).default('take'),
  /** Instances (ids or RDS identifiers) a runbook must never delete, beside the enrolled ones. */
  protectedInstances: z.array(z.string().min(1)).default([]),
  /** Automated backups a promoted replica keeps, so it can be restored in turn. */
  promotedBackupRetentionDays: z.number().int().min(1).max(35).default(7),
  pollIntervalSeconds: z.number().min(0.1).max(300).default(30),
  /** Longest wait for an instance or snapshot (the activities' own timeout is an hour). */
  waitTimeoutSeconds: z.number().int().min(1).max(86_400).default(3300),
  connectTimeoutSeconds: z.number().min(1).max(60).default(5),
});

/** S3 as the ObjectStore: a versioned bucket (checked before the first call). */
export const s3ObjectStoreConfig = z.strictObject({
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
  /** Keys live under this prefix, e.g. dr-runbooks/production/. */
  prefix: z.string().max(512).optional(),
  /** The bucket's region; default aws.region. */
  region: region.optional(),
  /** SSE-KMS with this key on every object written. */
  kmsKeyId: kmsKey.optional(),
  /** Evidence kept for `days` in Object Lock COMPLIANCE mode: objects under `prefixes` (default reports/). The bucket must have Object Lock on. */
  objectLock: z.strictObject({
    days: z.number().int().min(1).max(36_500),
    prefixes: z.array(z.string().min(1)).min(1).default(['reports/']),
  }).optional(),
});

const route53Record = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('CNAME') }),
  z.strictObject({
    type: z.literal('alias'),
    recordType: z.enum(['A', 'AAAA', 'CNAME']).default('A'),
    /** The hosted zone of the alias target (a load balancer's, or this zone for another record in it). */
    hostedZoneId: z.string().regex(/^[A-Z0-9]{1,32}$/, 'must be a hosted zone id, e.g. Z2FDTNDATAQYW2'),
    evaluateTargetHealth: z.boolean().default(false),
    /** An alias has no TTL of its own: how long resolvers may keep the old answer (its target's TTL). */
    effectiveTtlSeconds: z.number().int().min(0).max(86_400).default(60),
  }),
], { error: 'must be { type: CNAME } or { type: alias, hostedZoneId, … }' });

/** Route 53 as the Dns port: the hosted zone of the application's database name. */
export const route53DnsConfig = z.strictObject({
  hostedZoneId: z.string().regex(/^(\/hostedzone\/)?[A-Z0-9]{1,32}$/, 'must be a hosted zone id, e.g. Z0123456789ABCDEFGHIJ'),
  /** The port the application connects to: DNS names a host, so every target must be on it. */
  port: z.number().int().min(1).max(65535).default(5432),
  record: route53Record.default({ type: 'CNAME' }),
  pollIntervalSeconds: z.number().min(0.1).max(60).default(5),
  /** Longest wait for a change to be INSYNC (Route 53 usually takes under a minute). */
  waitTimeoutSeconds: z.number().int().min(1).max(3600).default(300),
});

/** Secrets Manager as the SecretStore. */
export const secretsManagerConfig = z.strictObject({
  /** Default aws.region. In a region outage, name the DR region and replicate the secrets there. */
  region: region.optional(),
  /** Prepended to every secret name: `mita/production/` makes `db-password` the secret `mita/production/db-password`. */
  namePrefix: z.string().regex(/^[A-Za-z0-9/_+=.@-]*$/, "must be the start of a secret name: letters, digits and / _ + = . @ -").default(''),
  /** Secrets the store creates are encrypted with it (default: the account's aws/secretsmanager key). */
  kmsKeyId: kmsKey.optional(),
  tags: tags.optional(),
});

export type AwsConfig = z.infer<typeof awsConfig>;
export type RdsPlatformConfig = z.infer<typeof rdsPlatformConfig>;
export type S3ObjectStoreConfig = z.infer<typeof s3ObjectStoreConfig>;
export type Route53DnsConfig = z.infer<typeof route53DnsConfig>;
export type SecretsManagerConfig = z.infer<typeof secretsManagerConfig>;

/** What an AWS config asks of the rest of the file: `aws` for any AWS adapter, every enrolled instance's database and region. */
export function awsConfigProblems(config: {
  aws?: AwsConfig;
  databases: Record<string, unknown>;
  platform?: { rds?: RdsPlatformConfig };
  objectStore?: { s3?: S3ObjectStoreConfig };
  dns?: { route53?: Route53DnsConfig };
  secretStore?: { secretsManager?: SecretsManagerConfig };
}): Array<{ path: string[]; message: string }> {
  const problems: Array<{ path: string[]; message: string }> = [];
  const used = [config.platform?.rds && 'platform.rds', config.objectStore?.s3 && 'objectStore.s3', config.dns?.route53 && 'dns.route53', config.secretStore?.secretsManager && 'secretStore.secretsManager'].filter(Boolean);
  if (used.length && !config.aws) problems.push({ path: ['aws'], message: `is required by ${used.join(', ')}: at least { region: us-east-1 }` });
  for (const [id, instance] of Object.entries(config.platform?.rds?.instances ?? {})) {
    const database = instance.database ?? id;
    if (!(database in config.databases)) {
      problems.push({ path: ['platform', 'rds', 'instances', id, 'database'], message: `"${database}" is not in databases (known: ${Object.keys(config.databases).join(', ') || 'none'}): name the database whose user and password sign in to ${instance.identifier}` });
    }
    if (!instance.region && !instance.identifier.startsWith('arn:')) problems.push({ path: ['platform', 'rds', 'instances', id, 'region'], message: `is required: the region ${instance.identifier} lives in (or give its ARN as identifier)` });
  }
  return problems;
}
