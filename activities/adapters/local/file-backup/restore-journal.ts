import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../../../lib/atomic-file';
import type { ArchiveKind, FileBackupChoice, FileBackupSet, RestoreTarget, StagedRestore } from '../../../ports/file-backup';

/**
 * Where a restore is, on disk, so a retry on a restarted worker resumes it: staging (being built),
 * staged (verified, waiting), moving (between the two renames), moved, confirmed, reverted.
 */
export interface RestoreJournal {
  restoreId: string;
  archiveKind: ArchiveKind;
  choice: FileBackupChoice;
  target: RestoreTarget;
  backup: FileBackupSet;
  targetDir: string;
  stagingDir: string;
  phase: 'staging' | 'staged' | 'moving' | 'moved' | 'confirmed' | 'reverted';
  staged?: Omit<StagedRestore, 'reused'>;
  /** Set when the move starts: where the target's old content goes. */
  previousDir?: string;
  movedAt?: string;
  updatedAt: string;
}

export function restoreJournals(dir: string) {
  const fileOf = (restoreId: string) => path.join(dir, `${restoreId}.json`);
  return {
    get(restoreId: string): RestoreJournal | undefined {
      const file = fileOf(restoreId);
      return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RestoreJournal) : undefined;
    },
    put(journal: Omit<RestoreJournal, 'updatedAt'>): RestoreJournal {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const saved = { ...journal, updatedAt: new Date().toISOString() };
      writeFileAtomic(fileOf(journal.restoreId), JSON.stringify(saved, null, 2) + '\n');
      return saved;
    },
    /** Forgets a restore that failed before it changed anything, so a retry starts afresh. */
    remove(restoreId: string): void {
      rmSync(fileOf(restoreId), { force: true });
    },
  };
}
