import { existsSync, lstatSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDirectory } from '../../../../lib/atomic-file';
import { PlatformRequestError, PlatformVerificationError } from '../../../ports/database-platform';
import type { FileBackup, FileBackupOptions, MovedRestore, RestoreFinish } from '../../../ports/file-backup';
import { assertIdentifier } from '../../../ports/identifiers';
import type { FileBackupContext } from './file-backup-context';
import { openManifest } from './manifests';
import type { RestoreJournal } from './restore-journal';
import { verifyStaged } from './staged-restore';

// Swapping a staged restore in for the target, journalled so a crash between the two renames (the
// target aside, the staged copy in) is finished by the next call; then confirming it (the previous
// copy removed) or reverting it (the previous copy back).

const stampOf = (date: Date) => date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

function journalOf(ctx: FileBackupContext, restoreId: string): RestoreJournal {
  assertIdentifier('restoreId', restoreId);
  const journal = ctx.journals.get(restoreId);
  if (!journal) throw new PlatformRequestError(`restore "${restoreId}" does not exist: stage it first with stageRestore`);
  return journal;
}

/** Finishes (or redoes after a crash) the two renames of a move, from whatever state they are in. */
async function completeMove(ctx: FileBackupContext, journal: RestoreJournal): Promise<RestoreJournal> {
  const { targetDir, stagingDir, previousDir } = journal;
  if (existsSync(stagingDir)) {
    if (previousDir && existsSync(targetDir) && !existsSync(previousDir)) await rename(targetDir, previousDir);
    if (existsSync(targetDir)) throw new PlatformVerificationError(`cannot move restore "${journal.restoreId}" into place: ${targetDir} exists again and ${previousDir ?? 'no previous copy'} is already taken; move one of them away and retry`);
    await rename(stagingDir, targetDir);
  }
  fsyncDirectory(path.dirname(targetDir));
  return ctx.journals.put({ ...journal, phase: 'moved', movedAt: journal.movedAt ?? new Date().toISOString() });
}

export async function moveIntoPlace(ctx: FileBackupContext, input: Parameters<FileBackup['moveIntoPlace']>[0], fileOptions: FileBackupOptions = {}): Promise<MovedRestore> {
  let journal = journalOf(ctx, input.restoreId);
  const result = (j: RestoreJournal, reused: boolean): MovedRestore => ({ restoreId: j.restoreId, archiveKind: j.archiveKind, backupId: j.backup.backupId, targetDir: j.targetDir, previousDir: j.previousDir, movedAt: j.movedAt!, reused });
  if (journal.phase === 'moved' || journal.phase === 'confirmed') return result(journal, true);
  if (journal.phase === 'reverted') throw new PlatformRequestError(`restore "${journal.restoreId}" was reverted; stage a new restore`);
  if (journal.phase === 'staging') throw new PlatformRequestError(`restore "${journal.restoreId}" has not finished staging: run stageRestore again`);
  if (journal.phase === 'moving') return result(await completeMove(ctx, journal), true);

  const manifest = await openManifest(ctx, journal.archiveKind, journal.backup.manifest.versionId);
  await verifyStaged(journal.stagingDir, manifest, fileOptions, 'just before the move');
  const { targetDir } = journal;
  const current = lstatSync(targetDir, { throwIfNoEntry: false });
  if (current?.isSymbolicLink()) throw new PlatformRequestError(`${targetDir} is a symlink: configure the directory it points at as the archive kind's directory; nothing was moved`);
  if (current && !current.isDirectory()) throw new PlatformRequestError(`${targetDir} exists and is not a directory; nothing was moved`);
  if (current && current.dev !== lstatSync(path.dirname(targetDir)).dev) {
    throw new PlatformRequestError(`${targetDir} is a mount point, so it cannot be swapped by a rename: configure a directory inside it as the archive kind's directory; nothing was moved`);
  }
  fileOptions.onProgress?.({ phase: 'moving', message: `${journal.stagingDir} -> ${targetDir}` });
  const movedAt = new Date();
  journal = ctx.journals.put({ ...journal, phase: 'moving', movedAt: movedAt.toISOString(), previousDir: current ? `${targetDir}.previous-${stampOf(movedAt)}` : undefined });
  return result(await completeMove(ctx, journal), false);
}

export async function confirmRestore(ctx: FileBackupContext, input: Parameters<FileBackup['confirmRestore']>[0]): Promise<RestoreFinish> {
  const journal = journalOf(ctx, input.restoreId);
  const finish = (outcome: RestoreFinish['outcome'], removed: string[]): RestoreFinish => ({ restoreId: journal.restoreId, targetDir: journal.targetDir, outcome, removed });
  if (journal.phase === 'confirmed') return finish('nothing-to-do', []);
  if (journal.phase !== 'moved' && journal.phase !== 'moving') throw new PlatformRequestError(`restore "${journal.restoreId}" is ${journal.phase}, not moved into place: only a moved restore can be confirmed`);
  const moved = journal.phase === 'moving' ? await completeMove(ctx, journal) : journal;
  const removed: string[] = [];
  if (moved.previousDir && existsSync(moved.previousDir)) {
    await rm(moved.previousDir, { recursive: true, force: true });
    removed.push(moved.previousDir);
  }
  ctx.journals.put({ ...moved, phase: 'confirmed' });
  return finish('confirmed', removed);
}

export async function revertRestore(ctx: FileBackupContext, input: Parameters<FileBackup['revertRestore']>[0]): Promise<RestoreFinish> {
  assertIdentifier('restoreId', input.restoreId);
  const journal = ctx.journals.get(input.restoreId);
  if (!journal) return { restoreId: input.restoreId, targetDir: '', outcome: 'nothing-to-do', removed: [] };
  const finish = (outcome: RestoreFinish['outcome'], removed: string[]): RestoreFinish => ({ restoreId: journal.restoreId, targetDir: journal.targetDir, outcome, removed });
  if (journal.phase === 'reverted') return finish('nothing-to-do', []);
  if (journal.phase === 'confirmed') throw new PlatformRequestError(`restore "${journal.restoreId}" was confirmed and its previous copy removed: it cannot be reverted; restore an earlier backup instead`);
  const removed: string[] = [];
  const remove = async (dir: string) => {
    if (!existsSync(dir)) return;
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  };
  await remove(journal.stagingDir);
  if (journal.phase === 'moving' || journal.phase === 'moved') {
    const { targetDir, previousDir } = journal;
    const aside = `${targetDir}.reverted-${journal.restoreId}`;
    if (previousDir && existsSync(previousDir)) {
      if (existsSync(targetDir)) await rename(targetDir, aside);
      await rename(previousDir, targetDir);
      fsyncDirectory(path.dirname(targetDir));
      await remove(aside);
    } else if (!previousDir) {
      await remove(targetDir); // nothing was there before the restore
    } else {
      await remove(aside); // a crash between the renames of an earlier revert
    }
  }
  ctx.journals.put({ ...journal, phase: 'reverted' });
  return finish('reverted', removed);
}
