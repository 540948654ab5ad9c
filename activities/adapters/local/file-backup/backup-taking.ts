import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PlatformRequestError } from '../../../ports/database-platform';
import type { FileBackup, FileBackupOptions, FileBackupResult, FileBackupSet } from '../../../ports/file-backup';
import { assertIdentifier } from '../../../ports/identifiers';
import { writeArchive } from './archive';
import { EnvelopeError, seal, sealingStream } from './envelope';
import { archiveKey, backupSetOf, configOf, manifestKey, sha256, type FileBackupContext, type Manifest } from './file-backup-context';
import { manifests } from './manifests';
import { ownerAndTimes, scanTree } from './tree';

/**
 * Archives a kind's source directory: the tar.gz sealed as it is written, uploaded as a new version
 * of the kind's archive, then the sealed manifest naming that version (written last: an archive
 * without a manifest is not a backup). Idempotent by backupId.
 */
export async function takeBackup(ctx: FileBackupContext, input: Parameters<FileBackup['takeBackup']>[0], fileOptions: FileBackupOptions = {}): Promise<FileBackupResult> {
  const kind = input.archiveKind;
  const config = configOf(ctx, kind);
  assertIdentifier('backupId', input.backupId);
  const existing = (await manifests(ctx, kind)).good.find((m) => m.manifest.backupId === input.backupId);
  if (existing) return { backup: backupSetOf(ctx, existing.manifest, existing.versionId), skipped: existing.manifest.skipped, reused: true };

  const sourceDir = path.resolve(config.sourceDir);
  const rootStat = await stat(sourceDir, { bigint: true }).catch(() => undefined);
  if (!rootStat?.isDirectory()) throw new PlatformRequestError(`archive kind "${kind}": source directory ${sourceDir} does not exist or is not a directory; nothing was backed up`);
  const takenAt = new Date().toISOString();
  fileOptions.onProgress?.({ phase: 'scanning', message: `scanning ${sourceDir}` });
  const { entries, skipped } = await scanTree(sourceDir, fileOptions.signal);
  const files = entries.filter((e) => e.type === 'file');
  const bytesTotal = files.reduce((sum, e) => sum + e.size, 0);
  mkdirSync(ctx.tmpDir, { recursive: true, mode: 0o700 });
  const sealedFile = path.join(ctx.tmpDir, `${kind}-${input.backupId}-${randomBytes(4).toString('hex')}.sealed`);
  try {
    let filesDone = 0;
    let bytesDone = 0;
    const sealer = await sealingStream({ keyId: ctx.keyId, contents: 'archive', backupId: input.backupId, archiveKind: kind }, ctx.keyFor);
    const tar = await writeArchive(sourceDir, entries, sealer, sealedFile, {
      signal: fileOptions.signal,
      onFile: (entry) => fileOptions.onProgress?.({ phase: 'archiving', filesDone: ++filesDone, filesTotal: files.length, bytesDone: (bytesDone += entry.size), bytesTotal }),
    });
    const sealed = await readFile(sealedFile);
    fileOptions.signal?.throwIfAborted();
    fileOptions.onProgress?.({ phase: 'uploading', bytesDone: 0, bytesTotal: sealed.length, message: archiveKey(ctx, kind) });
    const { versionId } = await ctx.store.putVersion(archiveKey(ctx, kind), sealed, 'application/octet-stream');
    const manifest: Manifest = {
      format: 'dr-file-manifest/1',
      backupId: input.backupId,
      archiveKind: kind,
      sourceDir,
      takenAt,
      keyId: ctx.keyId,
      archive: { key: archiveKey(ctx, kind), versionId, sizeBytes: sealed.length, sha256: sha256(sealed) },
      tar: { sizeBytes: tar.tarSizeBytes, sha256: tar.tarSha256 },
      root: ownerAndTimes(rootStat),
      entries,
      skipped,
    };
    const sealedManifest = await seal(Buffer.from(JSON.stringify(manifest)), { keyId: ctx.keyId, contents: 'manifest', backupId: input.backupId, archiveKind: kind }, ctx.keyFor);
    const manifestVersion = await ctx.store.putVersion(manifestKey(ctx, kind), sealedManifest, 'application/octet-stream');
    return { backup: backupSetOf(ctx, manifest, manifestVersion.versionId), skipped, reused: false };
  } catch (error) {
    if (error instanceof EnvelopeError) throw new PlatformRequestError(`cannot seal the ${kind} backup: ${error.message}`);
    throw error;
  } finally {
    await rm(sealedFile, { force: true });
  }
}

/** Finished backups of a kind, oldest first. */
export async function listBackups(ctx: FileBackupContext, archiveKind: Parameters<FileBackup['listBackups']>[0]): Promise<FileBackupSet[]> {
  configOf(ctx, archiveKind);
  return (await manifests(ctx, archiveKind)).good.map((m) => backupSetOf(ctx, m.manifest, m.versionId));
}
