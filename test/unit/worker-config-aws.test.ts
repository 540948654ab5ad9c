import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadWorkerConfig } from '../../worker/config';

// The AWS family's config keys, and config/aws-eks.yaml (the seeds' production) validated by the same
// schema as every config. A bad key is refused naming the field.
const root = path.resolve(__dirname, '..', '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'dr-config-aws-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const databases = 'databases:\n  production: { host: db.example, port: 5432, database: mita, user: app, passwordSecret: pw }\n';
const load = (text: string) => {
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, databases + text);
  return loadWorkerConfig(file);
};

test("config/aws-eks.yaml loads: the seeds' RDS primary and cross-region replica, EKS clusters, mita-backend and mita-db-config, the hosted zone", () => {
  const config = loadWorkerConfig(path.join(root, 'config', 'aws-eks.yaml'));
  assert.equal(config.aws?.region, 'us-east-1');
  const rds = config.platform?.rds;
  assert.deepEqual(rds?.instances.production, { identifier: 'mita-production-primary', region: 'us-east-1' });
  assert.equal(rds?.instances['dr-replica']?.identifier, 'arn:aws:rds:us-west-2:123456789012:db:mita-production-dr-replica', 'the cross-region replica by its ARN');
  assert.equal(rds?.instances['dr-replica']?.database, 'production', 'it is signed in to with production\'s credentials');
  assert.equal(rds?.finalSnapshot, 'take');
  assert.deepEqual(Object.keys(rds?.regions ?? {}), ['us-east-1', 'us-west-2']);
  assert.deepEqual(Object.keys(config.kubernetes?.clusters ?? {}), ['mita-production', 'mita-dr']);
  assert.equal(config.app?.kubernetes?.deployment, 'mita-backend');
  assert.equal(config.app?.kubernetes?.secret, 'mita-db-config');
  assert.equal(config.app?.kubernetes?.standby?.cluster, 'mita-dr');
  assert.equal(config.dns?.route53?.hostedZoneId, 'Z123EXAMPLE');
  assert.deepEqual(config.dns?.route53?.record, { type: 'CNAME' });
  assert.equal(config.objectStore?.s3?.bucket, 'mita-dr-evidence');
  assert.deepEqual(config.objectStore?.s3?.objectLock, { days: 2557, prefixes: ['reports/'] });
  assert.equal(config.secretStore?.secretsManager?.namePrefix, 'mita/production/');
  assert.equal(config.secretsDir, undefined, 'no secret lives beside the config');
});

test('defaults: Multi-AZ off for what a step builds, a final snapshot, 30 s polls, CNAME records on 5432, objects locked under reports/', () => {
  const config = load(`aws: { region: us-east-1 }
platform: { rds: { instances: { production: { identifier: mita-production-primary, region: us-east-1 } } } }
dns: { route53: { hostedZoneId: Z123EXAMPLE } }
objectStore: { s3: { bucket: mita-dr-evidence, objectLock: { days: 30 } } }
secretStore: { secretsManager: {} }
`);
  assert.equal(config.aws?.maxAttempts, 5);
  assert.equal(config.platform?.rds?.multiAz, false);
  assert.equal(config.platform?.rds?.pollIntervalSeconds, 30);
  assert.equal(config.dns?.route53?.port, 5432);
  assert.deepEqual(config.objectStore?.s3?.objectLock?.prefixes, ['reports/']);
  assert.equal(config.secretStore?.secretsManager?.namePrefix, '');
});

test('an AWS adapter without the aws section, and an enrolled instance whose database is not in databases, are refused by field', () => {
  assert.throws(() => load('dns: { route53: { hostedZoneId: Z123EXAMPLE } }\n'), /aws: is required by dns\.route53: at least \{ region: us-east-1 \}/);
  assert.throws(() => load(`aws: { region: us-east-1 }
platform: { rds: { instances: { dr-replica: { identifier: mita-production-dr-replica, region: us-west-2 } } } }
`), /platform\.rds\.instances\.dr-replica\.database: "dr-replica" is not in databases \(known: production\)/);
  assert.throws(() => load(`aws: { region: us-east-1 }
platform: { rds: { instances: { production: { identifier: mita-production-primary } } } }
`), /platform\.rds\.instances\.production\.region: is required: the region mita-production-primary lives in \(or give its ARN as identifier\)/);
});

test('bad values are named: region, identifier, instance class, security group, tag, bucket, record style, final-snapshot policy', () => {
  const rds = (extra: string) => `aws: { region: us-east-1 }\nplatform: { rds: { instances: { production: { identifier: mita-production-primary, region: us-east-1 } }, ${extra} } }\n`;
  assert.throws(() => load('aws: { region: virginia }\n'), /aws\.region: must be an AWS region, e\.g\. us-east-1/);
  assert.throws(() => load(`aws: { region: us-east-1 }\nplatform: { rds: { instances: { production: { identifier: "mita--primary", region: us-east-1 } } } }\n`), /platform\.rds\.instances\.production\.identifier: must be an RDS DB instance identifier/);
  assert.throws(() => load(rds('instanceClass: r6g.large')), /platform\.rds\.instanceClass: must be an RDS instance class/);
  assert.throws(() => load(rds('regions: { us-east-1: { securityGroupIds: [default] } }')), /platform\.rds\.regions\.us-east-1\.securityGroupIds\.0: must be a security group id/);
  assert.throws(() => load(rds('tags: { "aws:owner": x }')), /platform\.rds\.tags\.aws:owner: .*must be a tag key/);
  assert.throws(() => load(rds('finalSnapshot: maybe')), /platform\.rds\.finalSnapshot: must be "take"/);
  assert.throws(() => load('aws: { region: us-east-1 }\nobjectStore: { s3: { bucket: Mita_Evidence } }\n'), /objectStore\.s3\.bucket: must be an S3 bucket name/);
  assert.throws(() => load('aws: { region: us-east-1 }\ndns: { route53: { hostedZoneId: Z1, record: { type: A } } }\n'), /dns\.route53\.record/);
});

test('a port names one adapter: a directory and a bucket, or a mapping file and a hosted zone, are refused', () => {
  assert.throws(() => load('aws: { region: us-east-1 }\nobjectStore: { directory: reports, s3: { bucket: mita-dr-evidence } }\n'), /objectStore\.s3: names a second object store beside directory/);
  assert.throws(() => load('aws: { region: us-east-1 }\ndns: { mappingFile: dns.json, route53: { hostedZoneId: Z1 } }\n'), /dns\.route53: names a second DNS beside mappingFile/);
  assert.throws(() => load('objectStore: {}\n'), /objectStore\.directory: is required: the object store is one of directory, s3/);
});
