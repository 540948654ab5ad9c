import { createHash } from 'node:crypto';
import path from 'node:path';
import { PlatformRequestError } from '../../../ports/database-platform';
import type { ArchiveKind, FileBackupSet, ManifestEntry } from '../../../ports/file-backup';
import { assertIdentifier } from '../../../ports/identifiers';
import type { VersionedObjectStore } from '../../../ports/versioned-object-store';
import type { KeyFunction } from './envelope';
import { restoreJournals } from './restore-journal';
import type { VerificationCommand } from './verification-command';

export interface ArchiveKindConfig {
  /** The directory that is backed up, and restored over by a `target: 'source'` restore. */
  sourceDir: string;
  /** Where a `target: 'drill'` restore goes (never the source). */
  drillDir?: string;
  /** Run in the staged copy before it may be moved into place; must not write there. */
  verify?: VerificationCommand;
}

export interface LocalFileBackupOptions {
  store: VersionedObjectStore;
  /** The secret store's keys by id (32 bytes each). */
  keyFor: KeyFunction;
  /** The key new backups are sealed with; restores use whichever key the envelope names. */
  keyId: string;
  /** Restore journals and temporary files. */
  stateDir: string;
  archives: Record<ArchiveKind, ArchiveKindConfig>;
  /** Object key prefix; default "file-backups". */
  keyPrefix?: string;
}

/** The manifest as sealed beside the archive. */
export interface Manifest extends Pick<FileBackupSet, 'backupId' | 'archiveKind' | 'sourceDir' | 'takenAt' | 'keyId' | 'archive'> {
  format: 'dr-file-manifest/1';
  /** The uncompressed tar stream, checked after decompression. */
  tar: { sizeBytes: number; sha256: string };
  /** The archived directory itself. */
  root: Omit<ManifestEntry, 'path' | 'type' | 'size' | 'sha256' | 'linkTarget'>;
  entries: ManifestEntry[];
  skipped: Array<{ path: string; reason: string }>;
}

/** What the file backup's parts share: the store and keys, the configured kinds, the restore journals. */
export interface FileBackupContext extends Pick<LocalFileBackupOptions, 'store' | 'keyFor' | 'keyId' | 'archives'> {
  prefix: string;
  journals: ReturnType<typeof restoreJournals>;
  /** Sealed archives on their way up or down. */
  tmpDir: string;
}

/** The context, once every configured archive kind is checked. */
export function fileBackupContext(options: LocalFileBackupOptions): FileBackupContext {
  for (const [kind, config] of Object.entries(options.archives)) {
    assertIdentifier('archive kind', kind);
    if (!path.isAbsolute(config.sourceDir)) throw new PlatformRequestError(`archives.${kind}.sourceDir "${config.sourceDir}" must be an absolute path`);
    if (config.drillDir !== undefined && (!path.isAbsolute(config.drillDir) || path.resolve(config.drillDir) === path.resolve(config.sourceDir))) {
      throw new PlatformRequestError(`archives.${kind}.drillDir "${config.drillDir}" must be an absolute path other than the source directory`);
    }
    if (config.verify && (!Array.isArray(config.verify.argv) || config.verify.argv.length === 0)) throw new PlatformRequestError(`archives.${kind}.verify.argv must be a non-empty array (argv, no shell)`);
  }
  return {
    store: options.store,
    keyFor: options.keyFor,
    keyId: options.keyId,
    archives: options.archives,
    prefix: options.keyPrefix ?? 'file-backups',
    journals: restoreJournals(path.join(options.stateDir, 'restores')),
    tmpDir: path.join(options.stateDir, 'tmp'),
  };
}

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
export const isRoot = () => process.getuid?.() === 0;

export function configOf(ctx: FileBackupContext, kind: ArchiveKind): ArchiveKindConfig {
  const config = ctx.archives[kind];
  if (!config) throw new PlatformRequestError(`archive kind "${kind}" is not configured (configured: ${Object.keys(ctx.archives).join(', ') || 'none'})`);
  return config;
}
export const archiveKey = (ctx: FileBackupContext, kind: ArchiveKind) => `${ctx.prefix}/${kind}/archive.tar.gz.sealed`;
export const manifestKey = (ctx: FileBackupContext, kind: ArchiveKind) => `${ctx.prefix}/${kind}/manifest.json.sealed`;
export const objectName = (key: string, versionId: string) => `object "${key}" (version ${versionId})`;

export const backupSetOf = (ctx: FileBackupContext, m: Manifest, manifestVersionId: string): FileBackupSet => ({
  backupId: m.backupId,
  archiveKind: m.archiveKind,
  sourceDir: m.sourceDir,
  takenAt: m.takenAt,
  keyId: m.keyId,
  archive: m.archive,
  manifest: { key: manifestKey(ctx, m.archiveKind), versionId: manifestVersionId },
  fileCount: m.entries.filter((e) => e.type === 'file').length,
  directoryCount: m.entries.filter((e) => e.type === 'directory').length,
  symlinkCount: m.entries.filter((e) => e.type === 'symlink').length,
  totalBytes: m.entries.reduce((sum, e) => sum + e.size, 0),
});
