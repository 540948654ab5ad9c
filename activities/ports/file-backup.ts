/**
 * FileBackup port: encrypted, compressed archives of the application's directories (documents,
 * configuration, code: each an *archive kind* with its source directory, configured in the worker),
 * each with a manifest of every file, kept in a versioned object store.
 * Adapters: local (a directory tree archived into a versioned directory store, the embedded default)
 * and S3 with bucket versioning.
 *
 * A restore has the steps a runbook puts a gate between: `stageRestore` builds and verifies a complete
 * copy beside the target without touching it; `moveIntoPlace` swaps it in (the only step that changes
 * the target), keeping what was there as `<target>.previous-<stamp>`; `confirmRestore` drops that
 * previous copy, `revertRestore` puts it back. Every step is keyed by a `restoreId` the caller derives
 * from its workflow and step, so a retry resumes or returns what an earlier attempt did.
 * Results carry ids, paths, counts and checksums; never a key.
 */

/** [a-z0-9-], starting with a letter, at most 63: the kinds are configured names like documents, configs, code. */
export type ArchiveKind = string;

/** Which backup of an archive kind to restore. */
export type FileBackupChoice =
  | { kind: 'latest' }
  | { kind: 'backup'; backupId: string }
  /** An object version of the archive, as the store names it (an S3 version id). */
  | { kind: 'version'; versionId: string }
  /** The archive that was current at a time (ISO 8601 with a zone): what was there before an incident. */
  | { kind: 'currentAt'; time: string };

export type ManifestEntryType = 'file' | 'directory' | 'symlink';

/** One path of an archive, as the manifest records it (paths are relative, '/'-separated). */
export interface ManifestEntry {
  path: string;
  type: ManifestEntryType;
  /** Bytes of a file; 0 for directories and symlinks. */
  size: number;
  /** Permission bits, e.g. 0o640 (setuid/setgid/sticky included). */
  mode: number;
  uid: number;
  gid: number;
  /** Owner and group names on the machine that took the backup, when they resolved. */
  user?: string;
  group?: string;
  /** Modification time, ISO 8601 (milliseconds, truncated). */
  mtime: string;
  /** The same, exactly: nanoseconds since the epoch, as a decimal string (restores set this one). */
  mtimeNs?: string;
  /** sha256 (hex) of a file's content. */
  sha256?: string;
  /** Where a symlink points (never followed, restored as it was). */
  linkTarget?: string;
}

export interface StoredObjectRef {
  key: string;
  versionId: string;
  sizeBytes: number;
  /** sha256 (hex) of the stored bytes. */
  sha256: string;
}

/** One backup of an archive kind: what the manifest says about it. */
export interface FileBackupSet {
  backupId: string;
  archiveKind: ArchiveKind;
  /** The directory that was archived. */
  sourceDir: string;
  takenAt: string;
  /** Which encryption key (by id in the secret store) the archive and its manifest are sealed with. */
  keyId: string;
  archive: StoredObjectRef;
  manifest: { key: string; versionId: string };
  fileCount: number;
  directoryCount: number;
  symlinkCount: number;
  /** Sum of the files' sizes. */
  totalBytes: number;
}

export interface FileBackupResult {
  backup: FileBackupSet;
  /** Paths not archived (sockets, devices, FIFOs) and why: the operator decides whether that is right. */
  skipped: Array<{ path: string; reason: string }>;
  /** True when an earlier attempt with the same backupId had finished it, and this call returned it. */
  reused: boolean;
}

/** A complete, verified copy of a backup waiting beside its target. */
export interface StagedRestore {
  restoreId: string;
  archiveKind: ArchiveKind;
  backup: FileBackupSet;
  /** Where the copy will go. */
  targetDir: string;
  stagingDir: string;
  /** Every manifest entry checked on disk (type, size, sha256, mode, symlink target): there are no extra or missing paths. */
  verifiedEntries: number;
  /** The archive kind's verification command, when one is configured. */
  verificationCommand?: { argv: string[]; exitCode: number; durationMs: number; outputTail: string };
  /** Whether owners were set from the manifest (only when the worker runs as root). */
  ownershipApplied: boolean;
  reused: boolean;
}

export interface MovedRestore {
  restoreId: string;
  archiveKind: ArchiveKind;
  backupId: string;
  targetDir: string;
  /** What was at the target before, kept until `confirmRestore`; undefined if the target did not exist. */
  previousDir?: string;
  movedAt: string;
  reused: boolean;
}

export interface RestoreFinish {
  restoreId: string;
  targetDir: string;
  /** confirmed: the previous copy is removed; reverted: the previous copy is back at the target (or nothing had moved). */
  outcome: 'confirmed' | 'reverted' | 'nothing-to-do';
  /** Directories removed by this call. */
  removed: string[];
}

/** Progress of a long operation, for heartbeats. */
export interface FileBackupProgress {
  phase: 'scanning' | 'archiving' | 'uploading' | 'downloading' | 'decrypting' | 'extracting' | 'verifying' | 'running-check' | 'moving';
  filesDone?: number;
  filesTotal?: number;
  bytesDone?: number;
  bytesTotal?: number;
  message?: string;
}

export interface FileBackupOptions {
  /** Aborting stops the operation and removes what it half-built (never the target). */
  signal?: AbortSignal;
  onProgress?: (progress: FileBackupProgress) => void;
}

export type RestoreTarget = 'source' | 'drill';

export interface FileBackup {
  /** The configured archive kinds. */
  readonly archiveKinds: readonly ArchiveKind[];
  /** Archives the kind's source directory. Idempotent by backupId: a retry returns the finished backup. */
  takeBackup(input: { archiveKind: ArchiveKind; backupId: string }, options?: FileBackupOptions): Promise<FileBackupResult>;
  /** Finished backups of a kind, oldest first (an archive written without its manifest is not one). */
  listBackups(archiveKind: ArchiveKind): Promise<FileBackupSet[]>;
  /**
   * Decrypts and unpacks the chosen backup into a staging directory beside the target, verifies every
   * path against the manifest and runs the kind's verification command there. The target is not touched.
   * `target`: 'source' restores over the kind's own directory; 'drill' into its configured drill directory.
   */
  stageRestore(input: { restoreId: string; archiveKind: ArchiveKind; choice: FileBackupChoice; target?: RestoreTarget }, options?: FileBackupOptions): Promise<StagedRestore>;
  /** Verifies the staged copy against the manifest again, then swaps it in for the target. */
  moveIntoPlace(input: { restoreId: string }, options?: FileBackupOptions): Promise<MovedRestore>;
  /** After the application is proven healthy: removes the previous copy. */
  confirmRestore(input: { restoreId: string }, options?: FileBackupOptions): Promise<RestoreFinish>;
  /** Undoes the restore: the previous copy back at the target, the staged or restored copy removed. */
  revertRestore(input: { restoreId: string }, options?: FileBackupOptions): Promise<RestoreFinish>;
}

export { BackupIntegrityError } from './backup-integrity-error';
