import type { FileBackup } from '../../../ports/file-backup';
import { listBackups, takeBackup } from './backup-taking';
import { fileBackupContext, type LocalFileBackupOptions } from './file-backup-context';
import { confirmRestore, moveIntoPlace, revertRestore } from './move-into-place';
import { stageRestore } from './staged-restore';

export type { ArchiveKindConfig, LocalFileBackupOptions } from './file-backup-context';

/**
 * FileBackup over a directory tree and a versioned object store: the embedded default with the
 * versioned directory store, and the same code over S3 with versioning. One archive key and one
 * manifest key per archive kind; every backup is a new version of both (the manifest written last,
 * naming the archive version it describes).
 */
export function createLocalFileBackup(options: LocalFileBackupOptions): FileBackup {
  const ctx = fileBackupContext(options);
  return {
    archiveKinds: Object.keys(options.archives),
    takeBackup: (input, fileOptions = {}) => takeBackup(ctx, input, fileOptions),
    listBackups: (archiveKind) => listBackups(ctx, archiveKind),
    stageRestore: (input, fileOptions = {}) => stageRestore(ctx, input, fileOptions),
    moveIntoPlace: (input, fileOptions = {}) => moveIntoPlace(ctx, input, fileOptions),
    confirmRestore: (input) => confirmRestore(ctx, input),
    revertRestore: (input) => revertRestore(ctx, input),
  };
}
