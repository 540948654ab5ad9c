import { PlatformRequestError } from '../../../ports/database-platform';
import { BackupIntegrityError, type ArchiveKind, type FileBackupChoice } from '../../../ports/file-backup';
import { EnvelopeError, unseal } from './envelope';
import { archiveKey, manifestKey, objectName, type FileBackupContext, type Manifest } from './file-backup-context';

// The sealed manifests of a kind, one version per finished backup: opened and authenticated every
// time they are read, and the one a restore's choice names.

/** Opens one manifest version; throws BackupIntegrityError naming it unless it authenticates. */
export async function openManifest(ctx: FileBackupContext, kind: ArchiveKind, versionId: string): Promise<Manifest> {
  // Opened afresh every time (they are small): what is checked is what the store holds now.
  const key = manifestKey(ctx, kind);
  const data = await ctx.store.getVersion(key, versionId);
  if (!data) throw new BackupIntegrityError(`manifest ${objectName(key, versionId)} is missing from the object store`, `${key}@${versionId}`);
  let manifest: Manifest;
  try {
    const { header, plaintext } = await unseal(data, ctx.keyFor);
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
export async function manifests(ctx: FileBackupContext, kind: ArchiveKind): Promise<{ good: Array<{ versionId: string; manifest: Manifest }>; refused: BackupIntegrityError[] }> {
  const good: Array<{ versionId: string; manifest: Manifest }> = [];
  const refused: BackupIntegrityError[] = [];
  for (const version of await ctx.store.listVersions(manifestKey(ctx, kind))) {
    if (version.deleteMarker) continue;
    try {
      good.push({ versionId: version.versionId, manifest: await openManifest(ctx, kind, version.versionId) });
    } catch (error) {
      if (error instanceof BackupIntegrityError) refused.push(error);
      else throw error;
    }
  }
  return { good, refused };
}

const refusedNote = (refused: BackupIntegrityError[]) => (refused.length ? ` (${refused.length} manifest version(s) were refused: ${refused.map((e) => e.message).join('; ')})` : '');

/** The backup a choice names, by its manifest. */
export async function resolveChoice(ctx: FileBackupContext, kind: ArchiveKind, choice: FileBackupChoice): Promise<{ versionId: string; manifest: Manifest }> {
  const { good, refused } = await manifests(ctx, kind);
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
      const current = await ctx.store.versionAt(archiveKey(ctx, kind), new Date(time));
      if (!current) throw none(`was current at ${choice.time} (the archive did not exist then, or had been deleted)`);
      // The version current then may be one whose backup never finished: take the newest finished one up to it.
      const versions = (await ctx.store.listVersions(archiveKey(ctx, kind))).filter((v) => !v.deleteMarker && Date.parse(v.lastModified) <= Date.parse(current.lastModified)).reverse();
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
