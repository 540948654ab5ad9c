import {
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { assertObjectKey } from '../../ports/object-store';
import { versionCurrentAt, type ObjectVersion, type VersionedObjectStore } from '../../ports/versioned-object-store';
import { isAwsError, sendMapped } from './aws-errors';

export interface S3ObjectStoreOptions {
  s3: S3Client;
  bucket: string;
  /** Every key lives under this prefix in the bucket (e.g. `dr-runbooks/production/`); none when empty. */
  prefix?: string;
  /** SSE-KMS with this key on every object written; the bucket's default encryption when omitted. */
  kmsKeyId?: string;
  /**
   * Evidence that must outlive anyone's wish to remove it (reports, drill results): objects under these
   * prefixes are written with Object Lock retention in COMPLIANCE mode for `days` (the bucket must have
   * Object Lock enabled; nobody, root included, can delete the version before then).
   */
  objectLock?: { days: number; prefixes: string[] };
  now?: () => Date;
}

const missing = ['NoSuchKey', 'NotFound', 'NoSuchVersion', 'InvalidArgument', 'MethodNotAllowed'];

/**
 * The ObjectStore (and its versioned extension) on S3: a versioned bucket, every put a new version that
 * S3 keeps, so a report or a backup overwritten by a bad one can still be read back by its version id.
 * The bucket's versioning (and Object Lock, when configured) is checked once, before the first call.
 */
export function createS3ObjectStore(options: S3ObjectStoreOptions): VersionedObjectStore & { checkBucket(): Promise<void> } {
  const { s3, bucket } = options;
  const prefix = options.prefix ? options.prefix.replace(/\/*$/, '/') : '';
  const now = options.now ?? (() => new Date());
  const keyOf = (key: string) => `${prefix}${assertObjectKey(key)}`;
  const send = <C extends object, T>(what: string, command: C, run: (c: C) => Promise<T>, expected: string[] = []) => sendMapped('s3', what, command, run, expected);

  let checked: Promise<void> | undefined;
  const checkBucket = () => {
    checked ??= (async () => {
      const versioning = await send(`read the versioning of bucket ${bucket}`, new GetBucketVersioningCommand({ Bucket: bucket }), (c) => s3.send(c));
      if (versioning.Status !== 'Enabled') throw new Error(`bucket ${bucket} has versioning ${versioning.Status ?? 'never enabled'}: the object store needs a versioned bucket (aws s3api put-bucket-versioning --bucket ${bucket} --versioning-configuration Status=Enabled)`);
      if (options.objectLock) {
        const lock = await send(`read the Object Lock configuration of bucket ${bucket}`, new GetObjectLockConfigurationCommand({ Bucket: bucket }), (c) => s3.send(c), ['ObjectLockConfigurationNotFoundError']).catch((error) => {
          if (isAwsError(error, 'ObjectLockConfigurationNotFoundError')) return { ObjectLockConfiguration: undefined };
          throw error;
        });
        if (lock.ObjectLockConfiguration?.ObjectLockEnabled !== 'Enabled') throw new Error(`bucket ${bucket} does not have Object Lock enabled, which objectStore.s3.objectLock needs (Object Lock is turned on when a bucket is created, or by AWS support for an existing one)`);
      }
    })();
    checked.catch(() => { checked = undefined; });
    return checked;
  };

  const retention = (key: string) => {
    const lock = options.objectLock;
    if (!lock || !lock.prefixes.some((p) => key.startsWith(p))) return {};
    return { ObjectLockMode: 'COMPLIANCE' as const, ObjectLockRetainUntilDate: new Date(now().getTime() + lock.days * 86_400_000) };
  };

  async function putVersion(key: string, body: string | Buffer, contentType?: string): Promise<{ versionId: string }> {
    const fullKey = keyOf(key);
    await checkBucket();
    const out = await send(`write ${fullKey} to bucket ${bucket}`, new PutObjectCommand({
      Bucket: bucket,
      Key: fullKey,
      Body: body,
      ...(contentType ? { ContentType: contentType } : {}),
      ...(options.kmsKeyId ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: options.kmsKeyId } : {}),
      ...retention(key),
    }), (c) => s3.send(c));
    if (!out.VersionId) throw new Error(`bucket ${bucket} returned no version id for ${fullKey}: is its versioning suspended?`);
    return { versionId: out.VersionId };
  }

  async function read(key: string, versionId?: string): Promise<Buffer | undefined> {
    const fullKey = keyOf(key);
    await checkBucket();
    try {
      const out = await send(`read ${fullKey} from bucket ${bucket}`, new GetObjectCommand({ Bucket: bucket, Key: fullKey, ...(versionId ? { VersionId: versionId } : {}) }), (c) => s3.send(c), missing);
      return Buffer.from(await out.Body!.transformToByteArray());
    } catch (error) {
      // A delete marker answers 405 (MethodNotAllowed) to a GET by its version id, and a current one NoSuchKey.
      if (isAwsError(error, ...missing)) return undefined;
      throw error;
    }
  }

  async function listVersions(key: string): Promise<ObjectVersion[]> {
    const fullKey = keyOf(key);
    await checkBucket();
    const found: Array<ObjectVersion & { order: number }> = [];
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    let order = 0;
    do {
      const page = await send(`list the versions of ${fullKey} in bucket ${bucket}`, new ListObjectVersionsCommand({ Bucket: bucket, Prefix: fullKey, ...(keyMarker ? { KeyMarker: keyMarker } : {}), ...(versionMarker ? { VersionIdMarker: versionMarker } : {}) }), (c) => s3.send(c));
      // S3 lists a key's versions newest first: `order` keeps that where two share a LastModified.
      for (const v of page.Versions ?? []) if (v.Key === fullKey) found.push({ key, versionId: v.VersionId ?? 'null', lastModified: (v.LastModified ?? new Date(0)).toISOString(), sizeBytes: v.Size ?? 0, isLatest: v.IsLatest ?? false, deleteMarker: false, order: order++ });
      for (const m of page.DeleteMarkers ?? []) if (m.Key === fullKey) found.push({ key, versionId: m.VersionId ?? 'null', lastModified: (m.LastModified ?? new Date(0)).toISOString(), sizeBytes: 0, isLatest: m.IsLatest ?? false, deleteMarker: true, order: order++ });
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
    return found
      .sort((a, b) => a.lastModified.localeCompare(b.lastModified) || Number(a.isLatest) - Number(b.isLatest) || b.order - a.order)
      .map(({ order: _order, ...version }) => version);
  }

  return {
    checkBucket,
    put: async (key, body, contentType) => { await putVersion(key, body, contentType); },
    get: (key) => read(key),
    async list(listPrefix) {
      await checkBucket();
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await send(`list ${prefix}${listPrefix} in bucket ${bucket}`, new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}${listPrefix}`, ...(token ? { ContinuationToken: token } : {}) }), (c) => s3.send(c));
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key.slice(prefix.length));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    putVersion,
    getVersion: (key, versionId) => read(key, versionId),
    listVersions,
    async versionAt(key, time) {
      return versionCurrentAt(await listVersions(key), time);
    },
  };
}
