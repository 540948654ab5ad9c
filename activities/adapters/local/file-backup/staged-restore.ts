import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { chmod, lchown, lstat, mkdir, rm, utimes } from 'node:fs/promises';
import path from 'node:path';
import { PlatformRequestError, PlatformVerificationError } from '../../../ports/database-platform';
import { BackupIntegrityError, type ArchiveKind, type FileBackup, type FileBackupChoice, type FileBackupOptions, type RestoreTarget, type StagedRestore } from '../../../ports/file-backup';
import { assertIdentifier } from '../../../ports/identifiers';
import { ArchiveContentError, extractArchive } from './archive';
import { EnvelopeError, readEnvelopeHeader, unsealToFile } from './envelope';
import { backupSetOf, configOf, isRoot, objectName, sha256, type FileBackupContext, type Manifest } from './file-backup-context';
import { openManifest, resolveChoice } from './manifests';
import type { RestoreJournal } from './restore-journal';
import { TarFormatError } from './tar';
import { compareTreeWithManifest, describeProblems, mtimeOf, ownerOnThisMachine } from './tree';
import { runVerificationCommand, VerificationCommandError } from './verification-command';

// A staged restore: the chosen backup checked against its manifest, decrypted and unpacked into a
// staging directory beside the target, verified path by path and by the kind's verification command.
// The target is not touched; the journal says how far it got, so a retry resumes or starts afresh.

function targetDirOf(ctx: FileBackupContext, kind: ArchiveKind, target: RestoreTarget): string {
  const config = configOf(ctx, kind);
  if (target === 'source') return path.resolve(config.sourceDir);
  if (target === 'drill') {
    if (!config.drillDir) throw new PlatformRequestError(`archive kind "${kind}" has no drillDir configured: a drill restore never goes to the source directory`);
    return path.resolve(config.drillDir);
  }
  throw new PlatformRequestError(`target "${String(target)}" is not valid: use 'source' or 'drill'`);
}

/** Checks the staged copy against the manifest; throws naming the first paths that differ. */
export async function verifyStaged(stagingDir: string, manifest: Manifest, fileOptions: FileBackupOptions, when: string): Promise<number> {
  let done = 0;
  const files = manifest.entries.filter((e) => e.type === 'file').length;
  const problems = await compareTreeWithManifest(stagingDir, manifest.entries, {
    checkOwner: isRoot(),
    signal: fileOptions.signal,
    onFile: () => fileOptions.onProgress?.({ phase: 'verifying', filesDone: ++done, filesTotal: files }),
  });
  const root = await lstat(stagingDir);
  if ((root.mode & 0o7777) !== manifest.root.mode) problems.push({ path: '.', problem: `(the directory itself) has mode ${(root.mode & 0o7777).toString(8)}, the manifest says ${manifest.root.mode.toString(8)}` });
  if (problems.length) throw new BackupIntegrityError(`${when}, the staged copy of backup "${manifest.backupId}" does not match its manifest: ${describeProblems(problems)}; nothing was moved into place`, problems[0]!.path);
  return manifest.entries.length;
}

async function applyRootMetadata(dir: string, manifest: Manifest): Promise<void> {
  if (isRoot()) {
    const owner = ownerOnThisMachine(manifest.root);
    await lchown(dir, owner.uid, owner.gid);
  }
  await chmod(dir, manifest.root.mode);
  await utimes(dir, mtimeOf(manifest.root), mtimeOf(manifest.root));
}

function sameRequest(journal: RestoreJournal, kind: ArchiveKind, choice: FileBackupChoice, target: RestoreTarget): void {
  if (journal.archiveKind !== kind || journal.target !== target || JSON.stringify(journal.choice) !== JSON.stringify(choice)) {
    throw new PlatformRequestError(`restore "${journal.restoreId}" already exists for another request (${journal.archiveKind}, ${JSON.stringify(journal.choice)}, target ${journal.target}); choose another restoreId`);
  }
}

export async function stageRestore(ctx: FileBackupContext, input: Parameters<FileBackup['stageRestore']>[0], fileOptions: FileBackupOptions = {}): Promise<StagedRestore> {
  const restoreId = assertIdentifier('restoreId', input.restoreId);
  const kind = input.archiveKind;
  configOf(ctx, kind);
  const target = input.target ?? 'source';
  const targetDir = targetDirOf(ctx, kind, target);
  const known = ctx.journals.get(restoreId);
  if (known && known.phase !== 'staging') {
    sameRequest(known, kind, input.choice, target);
    if (known.phase === 'staged') await verifyStaged(known.stagingDir, await openManifest(ctx, kind, known.backup.manifest.versionId), fileOptions, 're-checked on retry');
    if (known.phase === 'reverted') throw new PlatformRequestError(`restore "${restoreId}" was reverted; choose another restoreId to restore again`);
    return { ...known.staged!, reused: true };
  }
  if (known) sameRequest(known, kind, input.choice, target);
  // A drill's directory is ours to make; a missing parent of the source directory is something the operator must look at.
  if (target === 'drill') mkdirSync(path.dirname(targetDir), { recursive: true, mode: 0o700 });
  if (!existsSync(path.dirname(targetDir))) throw new PlatformRequestError(`the parent of ${targetDir} does not exist: create it first; nothing was restored`);
  const { versionId: manifestVersionId, manifest } = await resolveChoice(ctx, kind, input.choice);
  const stagingDir = `${targetDir}.staging-${restoreId}`;
  const backup = backupSetOf(ctx, manifest, manifestVersionId);
  // What an earlier attempt left half-built goes first; the journal says a staging is in progress.
  await rm(stagingDir, { recursive: true, force: true });
  const journal = ctx.journals.put({ restoreId, archiveKind: kind, choice: input.choice, target, backup, targetDir, stagingDir, phase: 'staging' });
  mkdirSync(ctx.tmpDir, { recursive: true, mode: 0o700 });
  const tarGzFile = path.join(ctx.tmpDir, `${restoreId}-${randomBytes(4).toString('hex')}.tar.gz`);
  const archiveName = objectName(manifest.archive.key, manifest.archive.versionId);
  try {
    fileOptions.onProgress?.({ phase: 'downloading', bytesTotal: manifest.archive.sizeBytes, message: archiveName });
    const sealed = await ctx.store.getVersion(manifest.archive.key, manifest.archive.versionId);
    if (!sealed) throw new BackupIntegrityError(`archive ${archiveName} of backup "${manifest.backupId}" is missing from the object store; nothing was restored`, `${manifest.archive.key}@${manifest.archive.versionId}`);
    const refuse = (why: string) => new BackupIntegrityError(`archive ${archiveName} of backup "${manifest.backupId}" is refused: ${why}; nothing was moved into place`, `${manifest.archive.key}@${manifest.archive.versionId}`);
    if (sealed.length !== manifest.archive.sizeBytes || sha256(sealed) !== manifest.archive.sha256) {
      throw refuse(`it is ${sealed.length} bytes with sha256 ${sha256(sealed)}, the manifest says ${manifest.archive.sizeBytes} bytes with sha256 ${manifest.archive.sha256} (altered or truncated)`);
    }
    fileOptions.onProgress?.({ phase: 'decrypting', bytesTotal: sealed.length, message: archiveName });
    try {
      const { header } = readEnvelopeHeader(sealed);
      if (header.contents !== 'archive' || header.backupId !== manifest.backupId || header.archiveKind !== kind) throw new EnvelopeError(`it is sealed as the ${header.contents} of backup "${header.backupId}" (${header.archiveKind})`);
      await unsealToFile(sealed, ctx.keyFor, tarGzFile, fileOptions.signal);
    } catch (error) {
      if (error instanceof EnvelopeError) throw refuse(error.message);
      throw error;
    }
    await mkdir(stagingDir, { mode: 0o700 });
    const fileTotal = manifest.entries.filter((e) => e.type === 'file').length;
    let tar;
    try {
      tar = await extractArchive(tarGzFile, stagingDir, manifest.entries, {
        applyOwnership: isRoot(),
        signal: fileOptions.signal,
        onFile: (done) => fileOptions.onProgress?.({ phase: 'extracting', filesDone: done, filesTotal: fileTotal }),
      });
    } catch (error) {
      if (error instanceof ArchiveContentError) throw new BackupIntegrityError(`archive ${archiveName} of backup "${manifest.backupId}" does not match its manifest: ${error.message}; nothing was moved into place`, error.archivePath);
      if (error instanceof TarFormatError || (error as NodeJS.ErrnoException).code?.startsWith('Z_')) throw refuse(`it does not unpack: ${(error as Error).message}`);
      throw error;
    }
    if (tar.tarSha256 !== manifest.tar.sha256 || tar.tarSizeBytes !== manifest.tar.sizeBytes) throw refuse(`its tar stream has sha256 ${tar.tarSha256}, the manifest says ${manifest.tar.sha256}`);
    await applyRootMetadata(stagingDir, manifest);
    const verifiedEntries = await verifyStaged(stagingDir, manifest, fileOptions, 'after unpacking');

    let verificationCommand: StagedRestore['verificationCommand'];
    const check = configOf(ctx, kind).verify;
    if (check) {
      fileOptions.onProgress?.({ phase: 'running-check', message: check.argv.join(' ') });
      try {
        verificationCommand = await runVerificationCommand(check, stagingDir, fileOptions.signal);
      } catch (error) {
        if (error instanceof VerificationCommandError) throw new PlatformVerificationError(`the ${kind} verification of backup "${manifest.backupId}" failed: ${error.message}; nothing was moved into place`);
        throw error;
      }
      await verifyStaged(stagingDir, manifest, fileOptions, `after the verification command ${JSON.stringify(check.argv)} (a check must not write into the staged copy)`);
    }
    const staged: Omit<StagedRestore, 'reused'> = { restoreId, archiveKind: kind, backup, targetDir, stagingDir, verifiedEntries, verificationCommand, ownershipApplied: isRoot() };
    ctx.journals.put({ ...journal, phase: 'staged', staged });
    return { ...staged, reused: false };
  } catch (error) {
    await rm(stagingDir, { recursive: true, force: true });
    ctx.journals.remove(restoreId);
    throw error;
  } finally {
    await rm(tarGzFile, { force: true });
  }
}
