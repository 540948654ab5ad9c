import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, openSync, closeSync, fsyncSync } from 'node:fs';
import { chmod, lchown, lstat, mkdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { PlatformRequestError, PlatformVerificationError } from '../../../ports/database-platform';
import {
  BackupIntegrityError,
  type ArchiveKind,
  type FileBackup,
  type FileBackupChoice,
  type FileBackupOptions,
  type FileBackupSet,
  type ManifestEntry,
  type MovedRestore,
  type RestoreFinish,
  type RestoreTarget,
  type StagedRestore,
} from '../../../ports/file-backup';
import { assertIdentifier } from '../../../ports/identifiers';
import type { VersionedObjectStore } from '../../../ports/versioned-object-store';
import { ArchiveContentError, extractArchive, writeArchive } from './archive';
import { EnvelopeError, readEnvelopeHeader, seal, sealingStream, unseal, unsealToFile, type KeyFunction } from './envelope';
import { restoreJournals, type RestoreJournal } from './restore-journal';
import { TarFormatError } from './tar';
import { compareTreeWithManifest, describeProblems, mtimeOf, ownerAndTimes, ownerOnThisMachine, scanTree } from './tree';
import { runVerificationCommand, VerificationCommandError, type VerificationCommand } from './verification-command';

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
interface Manifest extends Pick<FileBackupSet, 'backupId' | 'archiveKind' | 'sourceDir' | 'takenAt' | 'keyId' | 'archive'> {
  format: 'dr-file-manifest/1';
  /** The uncompressed tar stream, checked after decompression. */
  tar: { sizeBytes: number; sha256: string };
  /** The archived directory itself. */
  root: Omit<ManifestEntry, 'path' | 'type' | 'size' | 'sha256' | 'linkTarget'>;
  entries: ManifestEntry[];
  skipped: Array<{ path: string; reason: string }>;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const stampOf = (date: Date) => date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
const isRoot = () => process.getuid?.() === 0;

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

/**
 * FileBackup over a directory tree and a versioned object store: the embedded default with the
 * versioned directory store, and the same code over S3 with versioning. One archive key and one
 * manifest key per archive kind; every backup is a new version of both (the manifest written last,
 * naming the archive version it describes).
 */
export function createLocalFileBackup(options: LocalFileBackupOptions): FileBackup {
  const prefix = options.keyPrefix ?? 'file-backups';
  const journals = restoreJournals(path.join(options.stateDir, 'restores'));
  const tmpDir = path.join(options.stateDir, 'tmp');

  for (const [kind, config] of Object.entries(options.archives)) {
    assertIdentifier('archive kind', kind);
    if (!path.isAbsolute(config.sourceDir)) throw new PlatformRequestError(`archives.${kind}.sourceDir "${config.sourceDir}" must be an absolute path`);
    if (config.drillDir !== undefined && (!path.isAbsolute(config.drillDir) || path.resolve(config.drillDir) === path.resolve(config.sourceDir))) {
      throw new PlatformRequestError(`archives.${kind}.drillDir "${config.drillDir}" must be an absolute path other than the source directory`);
    }
    if (config.verify && (!Array.isArray(config.verify.argv) || config.verify.argv.length === 0)) throw new PlatformRequestError(`archives.${kind}.verify.argv must be a non-empty array (argv, no shell)`);
  }

  const configOf = (kind: ArchiveKind): ArchiveKindConfig => {
    const config = options.archives[kind];
    if (!config) throw new PlatformRequestError(`archive kind "${kind}" is not configured (configured: ${Object.keys(options.archives).join(', ') || 'none'})`);
    return config;
  };
  const archiveKey = (kind: ArchiveKind) => `${prefix}/${kind}/archive.tar.gz.sealed`;
  const manifestKey = (kind: ArchiveKind) => `${prefix}/${kind}/manifest.json.sealed`;
  const objectName = (key: string, versionId: string) => `object "${key}" (version ${versionId})`;

  const backupSetOf = (m: Manifest, manifestVersionId: string): FileBackupSet => ({
    backupId: m.backupId,
    archiveKind: m.archiveKind,
    sourceDir: m.sourceDir,
    takenAt: m.takenAt,
    keyId: m.keyId,
    archive: m.archive,
    manifest: { key: manifestKey(m.archiveKind), versionId: manifestVersionId },
    fileCount: m.entries.filter((e) => e.type === 'file').length,
    directoryCount: m.entries.filter((e) => e.type === 'directory').length,
    symlinkCount: m.entries.filter((e) => e.type === 'symlink').length,
    totalBytes: m.entries.reduce((sum, e) => sum + e.size, 0),
  });

  /** Opens one manifest version; throws BackupIntegrityError naming it unless it authenticates. */
  async function openManifest(kind: ArchiveKind, versionId: string): Promise<Manifest> {
    // Opened afresh every time (they are small): what is checked is what the store holds now.
    const key = manifestKey(kind);
    const data = await options.store.getVersion(key, versionId);
    if (!data) throw new BackupIntegrityError(`manifest ${objectName(key, versionId)} is missing from the object store`, `${key}@${versionId}`);
    let manifest: Manifest;
    try {
      const { header, plaintext } = await unseal(data, options.keyFor);
      manifest = JSON.parse(plaintext.toString('utf8')) as Manifest;
      if (header.contents !== 'manifest' || header.archiveKind !== kind || header.backupId !== manifest.backupId || manifest.archiveKind !== kind || manifest.format !== 'dr-file-manifest/1') {
        throw new EnvelopeError(`it is sealed as the ${header.contents} of backup "${header.backupId}" (${header.archiveKind}), not a ${kind} manifest`);
      }
    } catch (error) {
      if (error instanceof EnvelopeError || error instanceof SyntaxError) throw new BackupIntegrityError(`manifest ${objectName(key, versionId)} is refused: ${error.message}`, `${key}@${versionId}`);
      throw error;
    }
    return manifest;
  }

  /** Every manifest version of a kind, oldest first; those that fail authentication are listed apart. */
  async function manifests(kind: ArchiveKind): Promise<{ good: Array<{ versionId: string; manifest: Manifest }>; refused: BackupIntegrityError[] }> {
    const good: Array<{ versionId: string; manifest: Manifest }> = [];
    const refused: BackupIntegrityError[] = [];
    for (const version of await options.store.listVersions(manifestKey(kind))) {
      if (version.deleteMarker) continue;
      try {
        good.push({ versionId: version.versionId, manifest: await openManifest(kind, version.versionId) });
      } catch (error) {
        if (error instanceof BackupIntegrityError) refused.push(error);
        else throw error;
      }
    }
    return { good, refused };
  }

  const refusedNote = (refused: BackupIntegrityError[]) => (refused.length ? ` (${refused.length} manifest version(s) were refused: ${refused.map((e) => e.message).join('; ')})` : '');

  /** The backup a choice names, by its manifest. */
  async function resolve(kind: ArchiveKind, choice: FileBackupChoice): Promise<{ versionId: string; manifest: Manifest }> {
    const { good, refused } = await manifests(kind);
    const none = (what: string) => new PlatformRequestError(`no ${kind} backup ${what}${refusedNote(refused)}; nothing was restored`);
    switch (choice?.kind) {
      case 'latest': {
        const newest = good.at(-1);
        if (!newest) throw none('has been taken yet');
        return newest;
      }
      case 'backup': {
        const found = good.find((m) => m.manifest.backupId === choice.backupId);
        if (!found) throw none(`has backupId "${choice.backupId}" (have: ${good.map((m) => m.manifest.backupId).join(', ') || 'none'})`);
        return found;
      }
      case 'version': {
        const found = good.find((m) => m.manifest.archive.versionId === choice.versionId);
        if (!found) throw none(`has archive version "${choice.versionId}": that version does not exist, or its backup never finished (no manifest names it)`);
        return found;
      }
      case 'currentAt': {
        const time = Date.parse(choice.time);
        if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/.test(String(choice.time)) || Number.isNaN(time)) {
          throw new PlatformRequestError(`choice.time "${choice.time}" is not an ISO 8601 time with a zone (e.g. 2026-11-23T13:55:00Z)`);
        }
        const current = await options.store.versionAt(archiveKey(kind), new Date(time));
        if (!current) throw none(`was current at ${choice.time} (the archive did not exist then, or had been deleted)`);
        // The version current then may be one whose backup never finished: take the newest finished one up to it.
        const versions = (await options.store.listVersions(archiveKey(kind))).filter((v) => !v.deleteMarker && Date.parse(v.lastModified) <= Date.parse(current.lastModified)).reverse();
        for (const version of versions) {
          const found = good.find((m) => m.manifest.archive.versionId === version.versionId);
          if (found) return found;
        }
        throw none(`finished at or before ${choice.time}`);
      }
      default:
        throw new PlatformRequestError(`choice ${JSON.stringify(choice)} is not valid: use {kind: 'latest'}, {kind: 'backup', backupId}, {kind: 'version', versionId} or {kind: 'currentAt', time}`);
    }
  }

  function targetDirOf(kind: ArchiveKind, target: RestoreTarget): string {
    const config = configOf(kind);
    if (target === 'source') return path.resolve(config.sourceDir);
    if (target === 'drill') {
      if (!config.drillDir) throw new PlatformRequestError(`archive kind "${kind}" has no drillDir configured: a drill restore never goes to the source directory`);
      return path.resolve(config.drillDir);
    }
    throw new PlatformRequestError(`target "${String(target)}" is not valid: use 'source' or 'drill'`);
  }

  /** Checks the staged copy against the manifest; throws naming the first paths that differ. */
  async function verifyStaged(stagingDir: string, manifest: Manifest, fileOptions: FileBackupOptions, when: string): Promise<number> {
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

  function journalOf(restoreId: string): RestoreJournal {
    assertIdentifier('restoreId', restoreId);
    const journal = journals.get(restoreId);
    if (!journal) throw new PlatformRequestError(`restore "${restoreId}" does not exist: stage it first with stageRestore`);
    return journal;
  }

  /** Finishes (or redoes after a crash) the two renames of a move, from whatever state they are in. */
  async function completeMove(journal: RestoreJournal): Promise<RestoreJournal> {
    const { targetDir, stagingDir, previousDir } = journal;
    if (existsSync(stagingDir)) {
      if (previousDir && existsSync(targetDir) && !existsSync(previousDir)) await rename(targetDir, previousDir);
      if (existsSync(targetDir)) throw new PlatformVerificationError(`cannot move restore "${journal.restoreId}" into place: ${targetDir} exists again and ${previousDir ?? 'no previous copy'} is already taken; move one of them away and retry`);
      await rename(stagingDir, targetDir);
    }
    fsyncDir(path.dirname(targetDir));
    return journals.put({ ...journal, phase: 'moved', movedAt: journal.movedAt ?? new Date().toISOString() });
  }

  return {
    archiveKinds: Object.keys(options.archives),

    async takeBackup(input, fileOptions = {}) {
      const kind = input.archiveKind;
      const config = configOf(kind);
      assertIdentifier('backupId', input.backupId);
      const existing = (await manifests(kind)).good.find((m) => m.manifest.backupId === input.backupId);
      if (existing) return { backup: backupSetOf(existing.manifest, existing.versionId), skipped: existing.manifest.skipped, reused: true };

      const sourceDir = path.resolve(config.sourceDir);
      const rootStat = await stat(sourceDir, { bigint: true }).catch(() => undefined);
      if (!rootStat?.isDirectory()) throw new PlatformRequestError(`archive kind "${kind}": source directory ${sourceDir} does not exist or is not a directory; nothing was backed up`);
      const takenAt = new Date().toISOString();
      fileOptions.onProgress?.({ phase: 'scanning', message: `scanning ${sourceDir}` });
      const { entries, skipped } = await scanTree(sourceDir, fileOptions.signal);
      const files = entries.filter((e) => e.type === 'file');
      const bytesTotal = files.reduce((sum, e) => sum + e.size, 0);
      mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
      const sealedFile = path.join(tmpDir, `${kind}-${input.backupId}-${randomBytes(4).toString('hex')}.sealed`);
      try {
        let filesDone = 0;
        let bytesDone = 0;
        const sealer = await sealingStream({ keyId: options.keyId, contents: 'archive', backupId: input.backupId, archiveKind: kind }, options.keyFor);
        const tar = await writeArchive(sourceDir, entries, sealer, sealedFile, {
          signal: fileOptions.signal,
          onFile: (entry) => fileOptions.onProgress?.({ phase: 'archiving', filesDone: ++filesDone, filesTotal: files.length, bytesDone: (bytesDone += entry.size), bytesTotal }),
        });
        const sealed = await readFile(sealedFile);
        fileOptions.signal?.throwIfAborted();
        fileOptions.onProgress?.({ phase: 'uploading', bytesDone: 0, bytesTotal: sealed.length, message: archiveKey(kind) });
        const { versionId } = await options.store.putVersion(archiveKey(kind), sealed, 'application/octet-stream');
        const manifest: Manifest = {
          format: 'dr-file-manifest/1',
          backupId: input.backupId,
          archiveKind: kind,
          sourceDir,
          takenAt,
          keyId: options.keyId,
          archive: { key: archiveKey(kind), versionId, sizeBytes: sealed.length, sha256: sha256(sealed) },
          tar: { sizeBytes: tar.tarSizeBytes, sha256: tar.tarSha256 },
          root: ownerAndTimes(rootStat),
          entries,
          skipped,
        };
        const sealedManifest = await seal(Buffer.from(JSON.stringify(manifest)), { keyId: options.keyId, contents: 'manifest', backupId: input.backupId, archiveKind: kind }, options.keyFor);
        const manifestVersion = await options.store.putVersion(manifestKey(kind), sealedManifest, 'application/octet-stream');
        return { backup: backupSetOf(manifest, manifestVersion.versionId), skipped, reused: false };
      } catch (error) {
        if (error instanceof EnvelopeError) throw new PlatformRequestError(`cannot seal the ${kind} backup: ${error.message}`);
        throw error;
      } finally {
        await rm(sealedFile, { force: true });
      }
    },

    async listBackups(archiveKind) {
      configOf(archiveKind);
      return (await manifests(archiveKind)).good.map((m) => backupSetOf(m.manifest, m.versionId));
    },

    async stageRestore(input, fileOptions = {}): Promise<StagedRestore> {
      const restoreId = assertIdentifier('restoreId', input.restoreId);
      const kind = input.archiveKind;
      configOf(kind);
      const target = input.target ?? 'source';
      const targetDir = targetDirOf(kind, target);
      const known = journals.get(restoreId);
      if (known && known.phase !== 'staging') {
        sameRequest(known, kind, input.choice, target);
        if (known.phase === 'staged') await verifyStaged(known.stagingDir, await openManifest(kind, known.backup.manifest.versionId), fileOptions, 're-checked on retry');
        if (known.phase === 'reverted') throw new PlatformRequestError(`restore "${restoreId}" was reverted; choose another restoreId to restore again`);
        return { ...known.staged!, reused: true };
      }
      if (known) sameRequest(known, kind, input.choice, target);
      // A drill's directory is ours to make; a missing parent of the source directory is something the operator must look at.
      if (target === 'drill') mkdirSync(path.dirname(targetDir), { recursive: true, mode: 0o700 });
      if (!existsSync(path.dirname(targetDir))) throw new PlatformRequestError(`the parent of ${targetDir} does not exist: create it first; nothing was restored`);
      const { versionId: manifestVersionId, manifest } = await resolve(kind, input.choice);
      const stagingDir = `${targetDir}.staging-${restoreId}`;
      const backup = backupSetOf(manifest, manifestVersionId);
      // What an earlier attempt left half-built goes first; the journal says a staging is in progress.
      await rm(stagingDir, { recursive: true, force: true });
      const journal = journals.put({ restoreId, archiveKind: kind, choice: input.choice, target, backup, targetDir, stagingDir, phase: 'staging' });
      mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
      const tarGzFile = path.join(tmpDir, `${restoreId}-${randomBytes(4).toString('hex')}.tar.gz`);
      const archiveName = objectName(manifest.archive.key, manifest.archive.versionId);
      try {
        fileOptions.onProgress?.({ phase: 'downloading', bytesTotal: manifest.archive.sizeBytes, message: archiveName });
        const sealed = await options.store.getVersion(manifest.archive.key, manifest.archive.versionId);
        if (!sealed) throw new BackupIntegrityError(`archive ${archiveName} of backup "${manifest.backupId}" is missing from the object store; nothing was restored`, `${manifest.archive.key}@${manifest.archive.versionId}`);
        const refuse = (why: string) => new BackupIntegrityError(`archive ${archiveName} of backup "${manifest.backupId}" is refused: ${why}; nothing was moved into place`, `${manifest.archive.key}@${manifest.archive.versionId}`);
        if (sealed.length !== manifest.archive.sizeBytes || sha256(sealed) !== manifest.archive.sha256) {
          throw refuse(`it is ${sealed.length} bytes with sha256 ${sha256(sealed)}, the manifest says ${manifest.archive.sizeBytes} bytes with sha256 ${manifest.archive.sha256} (altered or truncated)`);
        }
        fileOptions.onProgress?.({ phase: 'decrypting', bytesTotal: sealed.length, message: archiveName });
        try {
          const { header } = readEnvelopeHeader(sealed);
          if (header.contents !== 'archive' || header.backupId !== manifest.backupId || header.archiveKind !== kind) throw new EnvelopeError(`it is sealed as the ${header.contents} of backup "${header.backupId}" (${header.archiveKind})`);
          await unsealToFile(sealed, options.keyFor, tarGzFile, fileOptions.signal);
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
        const check = configOf(kind).verify;
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
        journals.put({ ...journal, phase: 'staged', staged });
        return { ...staged, reused: false };
      } catch (error) {
        await rm(stagingDir, { recursive: true, force: true });
        journals.remove(restoreId);
        throw error;
      } finally {
        await rm(tarGzFile, { force: true });
      }
    },

    async moveIntoPlace(input, fileOptions = {}): Promise<MovedRestore> {
      let journal = journalOf(input.restoreId);
      const result = (j: RestoreJournal, reused: boolean): MovedRestore => ({ restoreId: j.restoreId, archiveKind: j.archiveKind, backupId: j.backup.backupId, targetDir: j.targetDir, previousDir: j.previousDir, movedAt: j.movedAt!, reused });
      if (journal.phase === 'moved' || journal.phase === 'confirmed') return result(journal, true);
      if (journal.phase === 'reverted') throw new PlatformRequestError(`restore "${journal.restoreId}" was reverted; stage a new restore`);
      if (journal.phase === 'staging') throw new PlatformRequestError(`restore "${journal.restoreId}" has not finished staging: run stageRestore again`);
      if (journal.phase === 'moving') return result(await completeMove(journal), true);

      const manifest = await openManifest(journal.archiveKind, journal.backup.manifest.versionId);
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
      journal = journals.put({ ...journal, phase: 'moving', movedAt: movedAt.toISOString(), previousDir: current ? `${targetDir}.previous-${stampOf(movedAt)}` : undefined });
      return result(await completeMove(journal), false);
    },

    async confirmRestore(input): Promise<RestoreFinish> {
      const journal = journalOf(input.restoreId);
      const finish = (outcome: RestoreFinish['outcome'], removed: string[]): RestoreFinish => ({ restoreId: journal.restoreId, targetDir: journal.targetDir, outcome, removed });
      if (journal.phase === 'confirmed') return finish('nothing-to-do', []);
      if (journal.phase !== 'moved' && journal.phase !== 'moving') throw new PlatformRequestError(`restore "${journal.restoreId}" is ${journal.phase}, not moved into place: only a moved restore can be confirmed`);
      const moved = journal.phase === 'moving' ? await completeMove(journal) : journal;
      const removed: string[] = [];
      if (moved.previousDir && existsSync(moved.previousDir)) {
        await rm(moved.previousDir, { recursive: true, force: true });
        removed.push(moved.previousDir);
      }
      journals.put({ ...moved, phase: 'confirmed' });
      return finish('confirmed', removed);
    },

    async revertRestore(input): Promise<RestoreFinish> {
      assertIdentifier('restoreId', input.restoreId);
      const journal = journals.get(input.restoreId);
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
          fsyncDir(path.dirname(targetDir));
          await remove(aside);
        } else if (!previousDir) {
          await remove(targetDir); // nothing was there before the restore
        } else {
          await remove(aside); // a crash between the renames of an earlier revert
        }
      }
      journals.put({ ...journal, phase: 'reverted' });
      return finish('reverted', removed);
    },
  };
}
