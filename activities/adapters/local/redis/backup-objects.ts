import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BackupIntegrityError } from '../../../ports/backup-integrity-error';
import type { CacheBackup, CacheBackupObject, CacheInstanceId, CacheOperationOptions } from '../../../ports/cache-platform';
import { PlatformRequestError } from '../../../ports/database-platform';
import { assertIdentifier } from '../../../ports/identifiers';
import { metadataKey, objectKey, type BackupStore } from './cache-context';
import { dataDirOf } from './redis-server';

// A cache backup in the object store: its files, each with its size and sha256, and its metadata
// object, written last (a backup without metadata never finished). Everything read back is checked
// against the metadata before it is used.

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export async function readMetadata(ctx: BackupStore, backupId: string): Promise<CacheBackup | undefined> {
  const data = await ctx.store.get(metadataKey(ctx, backupId));
  if (!data) return undefined;
  try {
    return JSON.parse(data.toString('utf8')) as CacheBackup;
  } catch {
    throw new BackupIntegrityError(`backup metadata object "${metadataKey(ctx, backupId)}" is not valid JSON; the backup cannot be trusted`, metadataKey(ctx, backupId));
  }
}

export async function backupOf(ctx: BackupStore, backupId: string): Promise<CacheBackup> {
  assertIdentifier('backupId', backupId);
  const backup = await readMetadata(ctx, backupId);
  if (!backup) throw new PlatformRequestError(`cache backup "${backupId}" does not exist (no ${metadataKey(ctx, backupId)} in the object store)`);
  return backup;
}

export async function listBackups(ctx: BackupStore, sourceInstanceId?: CacheInstanceId): Promise<CacheBackup[]> {
  const keys = (await ctx.store.list(`${ctx.prefix}/`)).filter((key) => key.endsWith('/metadata.json'));
  const backups: CacheBackup[] = [];
  for (const key of keys) {
    const backup = await readMetadata(ctx, key.slice(ctx.prefix.length + 1, -'/metadata.json'.length));
    if (backup && (!sourceInstanceId || backup.sourceInstanceId === sourceInstanceId)) backups.push(backup);
  }
  return backups.sort((a, b) => a.takenAt.localeCompare(b.takenAt));
}

/** Uploads a backup's files; its metadata (with the objects returned here) is written after them. */
export async function uploadObjects(ctx: BackupStore, backupId: string, files: Map<string, Buffer>, opts: CacheOperationOptions): Promise<{ objects: CacheBackupObject[]; totalBytes: number }> {
  const objects: CacheBackupObject[] = [];
  let bytesDone = 0;
  const totalBytes = [...files.values()].reduce((sum, data) => sum + data.length, 0);
  for (const [name, data] of files) {
    opts.signal?.throwIfAborted();
    opts.onProgress?.({ phase: 'uploading', bytesDone, bytesTotal: totalBytes, message: name });
    await ctx.store.put(objectKey(ctx, backupId, name), data, 'application/octet-stream');
    objects.push({ name, key: objectKey(ctx, backupId, name), sizeBytes: data.length, sha256: sha256(data) });
    bytesDone += data.length;
  }
  return { objects, totalBytes };
}

/** The metadata goes last: a backup without it never finished, and a retry writes it again. */
export async function writeMetadata(ctx: BackupStore, backup: CacheBackup): Promise<void> {
  await ctx.store.put(metadataKey(ctx, backup.backupId), JSON.stringify(backup, null, 2) + '\n', 'application/json');
}

/** Every object of a backup, each checked against its recorded size and sha256 before it is used. */
export async function downloadVerified(ctx: BackupStore, backup: CacheBackup, opts: CacheOperationOptions): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  let bytesDone = 0;
  for (const object of backup.objects) {
    opts.signal?.throwIfAborted();
    opts.onProgress?.({ phase: 'downloading', bytesDone, bytesTotal: backup.totalBytes, message: object.key });
    const data = await ctx.store.get(object.key);
    if (!data) throw new BackupIntegrityError(`backup "${backup.backupId}": object "${object.key}" is missing from the object store; nothing was restored`, object.key);
    const actual = sha256(data);
    if (data.length !== object.sizeBytes || actual !== object.sha256) {
      throw new BackupIntegrityError(`backup "${backup.backupId}": object "${object.key}" is ${data.length} bytes with sha256 ${actual}, its metadata says ${object.sizeBytes} bytes with sha256 ${object.sha256} (altered or truncated); nothing was restored`, object.key);
    }
    out.set(object.name, data);
    bytesDone += data.length;
  }
  return out;
}

/** Puts a backup's files where redis-server reads them at start: data/dump.rdb or data/appendonlydir/. */
export function writeDataFiles(dir: string, files: Map<string, Buffer>): void {
  mkdirSync(path.join(dataDirOf(dir), 'appendonlydir'), { recursive: true, mode: 0o700 });
  for (const [name, data] of files) {
    if (!/^(dump\.rdb|appendonlydir\/[\w.-]+)$/.test(name)) throw new BackupIntegrityError(`backup object name "${name}" is not a Redis data file this platform restores`, name);
    writeFileSync(path.join(dataDirOf(dir), ...name.split('/')), data, { mode: 0o600 });
  }
}
