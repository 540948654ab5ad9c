import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../contracts/failure-types';
import { buildKey, portOperation } from './port-operation';
import { instanceIdFor } from './platform-activities';
import type { ArchiveKind, FileBackup, FileBackupChoice, FileBackupProgress, FileBackupSet, MovedRestore, RestoreFinish, RestoreTarget, StagedRestore } from './ports/file-backup';

/** What a workflow learns of a file backup (no key, no file names). */
export interface FileBackupSummary {
  backupId: string;
  archiveKind: ArchiveKind;
  takenAt: string;
  /** The encryption key's id in the secret store (never the key). */
  keyId: string;
  fileCount: number;
  directoryCount: number;
  symlinkCount: number;
  totalBytes: number;
  archiveVersionId: string;
  archiveBytes: number;
}

export interface StagedRestoreSummary {
  restoreId: string;
  archiveKind: ArchiveKind;
  backupId: string;
  targetDir: string;
  stagingDir: string;
  verifiedEntries: number;
  verificationCommand?: { argv: string[]; exitCode: number; durationMs: number };
  ownershipApplied: boolean;
  reused: boolean;
}

export function summariseFileBackup(b: FileBackupSet): FileBackupSummary {
  return {
    backupId: b.backupId,
    archiveKind: b.archiveKind,
    takenAt: b.takenAt,
    keyId: b.keyId,
    fileCount: b.fileCount,
    directoryCount: b.directoryCount,
    symlinkCount: b.symlinkCount,
    totalBytes: b.totalBytes,
    archiveVersionId: b.archive.versionId,
    archiveBytes: b.archive.sizeBytes,
  };
}

function summariseStaged(s: StagedRestore): StagedRestoreSummary {
  return {
    restoreId: s.restoreId,
    archiveKind: s.archiveKind,
    backupId: s.backup.backupId,
    targetDir: s.targetDir,
    stagingDir: s.stagingDir,
    verifiedEntries: s.verifiedEntries,
    ...(s.verificationCommand ? { verificationCommand: { argv: s.verificationCommand.argv, exitCode: s.verificationCommand.exitCode, durationMs: s.verificationCommand.durationMs } } : {}),
    ownershipApplied: s.ownershipApplied,
    reused: s.reused,
  };
}

/** The newest finished backup taken at or before a time (default: the newest). */
export function newestFileBackup(backups: readonly FileBackupSet[], asOf?: string): FileBackupSet | undefined {
  const limit = asOf ? Date.parse(asOf) : Infinity;
  return backups.filter((b) => Date.parse(b.takenAt) <= limit).at(-1);
}

const scanning: FileBackupProgress = { phase: 'scanning' };

/** Activities over the FileBackup port: backups by archive kind, restores staged, verified, moved into place, confirmed or reverted. */
export function createFileActivities({ files }: { files: FileBackup }) {
  const refuse = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });

  /** The configured archive kinds (a worker without `files` says what to configure). */
  function archiveKinds(): string[] {
    const kinds = files.archiveKinds;
    if (!Array.isArray(kinds)) throw refuse(FailureType.InvalidPlan, 'the file backups are not configured: add `files` (keyId, stateDir, archives) to the worker config');
    return [...kinds];
  }

  return {
    /**
     * The backup each archive kind restores (all configured kinds when none are named): the one named
     * in `backupIds`, else the newest finished at or before `asOf`. Refuses an unknown kind or a kind
     * with no backup before anything is restored.
     */
    async findFileBackups(input: { archives?: string[]; asOf?: string; backupIds?: Record<string, string> }): Promise<Record<ArchiveKind, FileBackupSummary>> {
      return portOperation(scanning, async () => {
        const configured = archiveKinds();
        const wanted = input.archives?.length ? input.archives : configured;
        const unknown = [...wanted, ...Object.keys(input.backupIds ?? {})].filter((k) => !configured.includes(k));
        if (unknown.length) throw refuse(FailureType.InvalidInput, `archives: ${unknown.map((k) => `"${k}"`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not configured (configured: ${configured.join(', ')}); nothing was restored`);
        const found: Record<ArchiveKind, FileBackupSummary> = {};
        for (const kind of wanted) {
          const backups = await files.listBackups(kind);
          const id = input.backupIds?.[kind];
          const backup = id ? backups.find((b) => b.backupId === id) : newestFileBackup(backups, input.asOf);
          if (!backup) {
            throw refuse(FailureType.NoBackup, id
              ? `backupIds.${kind}: no ${kind} backup has backupId "${id}" (have: ${backups.map((b) => b.backupId).join(', ') || 'none'}); nothing was restored`
              : `archive kind ${kind} has no backup${input.asOf ? ` finished at or before ${input.asOf}` : ''}; nothing was restored`);
          }
          found[kind] = summariseFileBackup(backup);
        }
        return found;
      });
    },

    async takeFileBackup(input: { archiveKind: ArchiveKind; backupId: string }): Promise<FileBackupSummary & { skipped: number }> {
      return portOperation(scanning, async (o) => {
        const result = await files.takeBackup(input, o);
        return { ...summariseFileBackup(result.backup), skipped: result.skipped.length };
      });
    },

    /**
     * Decrypts and unpacks a backup into a staging directory beside its target, checks every file
     * against the sealed manifest and runs the kind's verification command; the target is not touched.
     * Keyed by the workflow and step, so a retry finds the staging an earlier attempt made.
     */
    async stageFileRestore(input: { archiveKind: ArchiveKind; backupId: string; target: RestoreTarget; step?: string }): Promise<StagedRestoreSummary> {
      const key = buildKey(input.step ?? `stage-${input.archiveKind}`);
      const restoreId = instanceIdFor(key.workflowId, key.step);
      const choice: FileBackupChoice = { kind: 'backup', backupId: input.backupId };
      return portOperation(scanning, async (o) => summariseStaged(await files.stageRestore({ restoreId, archiveKind: input.archiveKind, choice, target: input.target }, o)));
    },

    /** Checks the staged copy once more, then swaps it in for the target; the previous copy is kept until confirmed. */
    async moveFileRestoreIntoPlace(input: { restoreId: string }): Promise<MovedRestore> {
      return portOperation(scanning, (o) => files.moveIntoPlace(input, o));
    },

    async confirmFileRestore(input: { restoreId: string }): Promise<RestoreFinish> {
      return portOperation(scanning, (o) => files.confirmRestore(input, o));
    },

    /** Undoes a restore: the staging removed, or the previous copy put back at the target. */
    async revertFileRestore(input: { restoreId: string }): Promise<RestoreFinish> {
      return portOperation(scanning, (o) => files.revertRestore(input, o));
    },
  };
}

export type FileActivities = ReturnType<typeof createFileActivities>;
