import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, DeleteObjectCommand, HeadObjectCommand, PutBucketVersioningCommand, PutObjectLockConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { createS3ObjectStore } from '../../activities/adapters/aws';
import { startMotoServer, type MotoServer } from '../../stack/moto-server';
import { startInTempDir } from '../support/temp-server';
import { objectStoreContract, versionedObjectStoreContract } from './object-store-cases';

// The ObjectStore contract on S3, answered by moto: a versioned bucket, a prefix per case. Then what only
// S3 does: SSE-KMS on every object, Object Lock COMPLIANCE retention on evidence, a bucket without versioning refused.
let moto: MotoServer & { stateDir: string };
let s3: S3Client;
let n = 0;
before(async () => {
  moto = await startInTempDir('dr-moto-', (stateDir) => startMotoServer({ stateDir }));
  s3 = new S3Client(moto.s3ClientConfig());
  await s3.send(new CreateBucketCommand({ Bucket: 'mita-dr-evidence' }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'mita-dr-evidence', VersioningConfiguration: { Status: 'Enabled' } }));
});
after(() => moto?.stop());

const fresh = async () => createS3ObjectStore({ s3, bucket: 'mita-dr-evidence', prefix: `contract/${++n}/` });
objectStoreContract('S3 object store (moto)', fresh);
versionedObjectStoreContract('S3 object store (moto)', fresh);

test('S3 object store (moto): every object is written with SSE-KMS under the configured key', async () => {
  const store = createS3ObjectStore({ s3, bucket: 'mita-dr-evidence', prefix: 'kms/', kmsKeyId: 'alias/mita-dr-evidence' });
  await store.put('reports/INC-1.json', '{}', 'application/json');
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'mita-dr-evidence', Key: 'kms/reports/INC-1.json' }));
  assert.equal(head.ServerSideEncryption, 'aws:kms');
  assert.match(head.SSEKMSKeyId ?? '', /mita-dr-evidence/);
  assert.equal(head.ContentType, 'application/json');
});

test('S3 object store (moto): evidence under reports/ is kept in COMPLIANCE mode for N days, and S3 refuses to delete that version', async () => {
  // moto: Object Lock is configured before anything is written (PutObjectLockConfiguration fails on a non-empty bucket).
  await s3.send(new CreateBucketCommand({ Bucket: 'mita-dr-locked', ObjectLockEnabledForBucket: true }));
  await s3.send(new PutObjectLockConfigurationCommand({ Bucket: 'mita-dr-locked', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } }));
  const now = new Date('2026-12-01T12:00:00.000Z');
  const store = createS3ObjectStore({ s3, bucket: 'mita-dr-locked', objectLock: { days: 30, prefixes: ['reports/'] }, now: () => now });
  const report = await store.putVersion('reports/drill-1.json', '{"verdict":"pass"}', 'application/json');
  const baseline = await store.putVersion('baselines/production.json', '{}');
  // GetObjectRetention is not implemented by moto: HeadObject carries the lock.
  const locked = await s3.send(new HeadObjectCommand({ Bucket: 'mita-dr-locked', Key: 'reports/drill-1.json', VersionId: report.versionId }));
  assert.equal(locked.ObjectLockMode, 'COMPLIANCE');
  assert.equal(locked.ObjectLockRetainUntilDate?.toISOString(), '2026-12-31T12:00:00.000Z');
  const unlocked = await s3.send(new HeadObjectCommand({ Bucket: 'mita-dr-locked', Key: 'baselines/production.json', VersionId: baseline.versionId }));
  assert.equal(unlocked.ObjectLockMode, undefined, 'only evidence prefixes are locked');
  await assert.rejects(s3.send(new DeleteObjectCommand({ Bucket: 'mita-dr-locked', Key: 'reports/drill-1.json', VersionId: report.versionId })), { name: 'AccessDenied' });
  assert.equal((await store.getVersion('reports/drill-1.json', report.versionId))?.toString(), '{"verdict":"pass"}');
});

test('S3 object store (moto): a bucket without versioning, or without Object Lock when evidence must be locked, is refused before the first write', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'mita-unversioned' }));
  await assert.rejects(createS3ObjectStore({ s3, bucket: 'mita-unversioned' }).put('reports/a.json', '{}'), /bucket mita-unversioned has versioning never enabled: the object store needs a versioned bucket/);
  await assert.rejects(createS3ObjectStore({ s3, bucket: 'mita-dr-evidence', objectLock: { days: 1, prefixes: ['reports/'] } }).put('reports/a.json', '{}'), /bucket mita-dr-evidence does not have Object Lock enabled/);
});

test('S3 object store (moto): a bucket that does not exist fails with the call and what to check, not retried', async () => {
  await assert.rejects(createS3ObjectStore({ s3, bucket: 'no-such-bucket-here' }).get('reports/a.json'), (e: Error & { type?: string; retryable?: boolean }) => e.type === 'PlatformNotFound' && e.retryable === false && /s3:GetBucketVersioning answered NoSuchBucket/.test(e.message));
});
