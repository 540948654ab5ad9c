import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lchown, lutimes, mkdir, open, symlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { ManifestEntry } from '../../../ports/file-backup';
import { encodeHeader, endOfArchive, padding, readTar, type TarHeader } from './tar';
import { mtimeOf, ownerOnThisMachine } from './tree';

/** Raised when a path changes while it is being archived (GNU tar's "file changed as we read it"). */
export class FileChangedError extends Error {
  override readonly name = 'FileChangedError';
}

/** Raised when an archive's content disagrees with its manifest; names the path. */
export class ArchiveContentError extends Error {
  override readonly name = 'ArchiveContentError';
  constructor(
    message: string,
    readonly archivePath: string,
  ) {
    super(message);
  }
}

const tarHeaderOf = (entry: ManifestEntry): TarHeader => ({
  path: entry.path,
  type: entry.type,
  size: entry.size,
  mode: entry.mode,
  uid: entry.uid,
  gid: entry.gid,
  uname: entry.user,
  gname: entry.group,
  mtime: Math.floor(Date.parse(entry.mtime) / 1000),
  linkTarget: entry.linkTarget,
});

/**
 * The tar stream of a scanned tree. Each file is read once: exactly the size the scan saw, hashed on
 * the way (the hash goes into the entry), and checked afterwards to be the same size and mtime.
 */
async function* tarStream(root: string, entries: ManifestEntry[], signal?: AbortSignal, onFile?: (entry: ManifestEntry) => void): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    signal?.throwIfAborted();
    yield encodeHeader(tarHeaderOf(entry));
    if (entry.type !== 'file') continue;
    const file = path.join(root, ...entry.path.split('/'));
    const handle = await open(file, 'r');
    try {
      const hash = createHash('sha256');
      let left = entry.size;
      const chunk = Buffer.alloc(1 << 20);
      while (left > 0) {
        const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, left), null);
        if (bytesRead === 0) throw new FileChangedError(`"${entry.path}" shrank while it was being archived (expected ${entry.size} bytes): take the backup again`);
        const data = Buffer.from(chunk.subarray(0, bytesRead));
        hash.update(data);
        left -= bytesRead;
        yield data;
      }
      const after = await handle.stat({ bigint: true });
      if (Number(after.size) !== entry.size || after.mtimeNs.toString() !== entry.mtimeNs) {
        throw new FileChangedError(`"${entry.path}" changed while it was being archived (size ${entry.size} -> ${after.size}, mtime ${entry.mtime} -> ${new Date(Number(after.mtimeMs)).toISOString()}): take the backup again`);
      }
      entry.sha256 = hash.digest('hex');
    } finally {
      await handle.close();
    }
    yield padding(entry.size);
    onFile?.(entry);
  }
  yield endOfArchive();
}

/** Counts and hashes what passes through. */
function digestingStream(into: { sha256?: string; sizeBytes: number }): Transform {
  const hash = createHash('sha256');
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      into.sizeBytes += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      into.sha256 = hash.digest('hex');
      callback();
    },
  });
}

/**
 * Writes tree -> tar -> gzip -> `seal` -> file, and fills each file entry's sha256.
 * Returns the size and sha256 of the uncompressed tar stream, recorded in the manifest.
 */
export async function writeArchive(root: string, entries: ManifestEntry[], seal: Transform, outFile: string, options: { signal?: AbortSignal; onFile?: (entry: ManifestEntry) => void } = {}): Promise<{ tarSha256: string; tarSizeBytes: number }> {
  const tar = { sizeBytes: 0 } as { sha256?: string; sizeBytes: number };
  await pipeline(Readable.from(tarStream(root, entries, options.signal, options.onFile)), digestingStream(tar), createGzip({ level: 6 }), seal, createWriteStream(outFile, { mode: 0o600 }), { signal: options.signal });
  return { tarSha256: tar.sha256!, tarSizeBytes: tar.sizeBytes };
}

/**
 * Unpacks a (verified, decrypted) tar.gz into an empty staging directory. Every entry must be in the
 * manifest with the same type, size and sha256, and no path may appear twice; symlinks are made
 * last, so no file is ever written through one. Owners (as root), modes and mtimes come from the
 * manifest, the record that is authenticated. Returns the uncompressed tar's sha256.
 */
export async function extractArchive(tarGzFile: string, stagingDir: string, manifest: readonly ManifestEntry[], options: { applyOwnership: boolean; signal?: AbortSignal; onFile?: (done: number) => void }): Promise<{ tarSha256: string; tarSizeBytes: number }> {
  const expected = new Map(manifest.map((entry) => [entry.path, entry]));
  const seen = new Set<string>();
  const symlinks: ManifestEntry[] = [];
  const tar = { sizeBytes: 0 } as { sha256?: string; sizeBytes: number };
  const gunzip = createGunzip();
  const source = createReadStream(tarGzFile).pipe(gunzip).pipe(digestingStream(tar));
  const onAbort = () => source.destroy(new Error('cancelled'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const fail = (p: string, problem: string) => new ArchiveContentError(`"${p}" ${problem}`, p);
  let files = 0;
  let current: { entry: ManifestEntry; header: TarHeader; handle?: Awaited<ReturnType<typeof open>>; hash?: ReturnType<typeof createHash>; written: number } | undefined;
  try {
    for await (const event of readTar(source)) {
      if (event.type === 'entry') {
        const { header } = event;
        const entry = expected.get(header.path);
        if (!entry) throw fail(header.path, `is in the archive but not in the manifest (a ${header.type})`);
        if (seen.has(header.path)) throw fail(header.path, 'appears twice in the archive');
        seen.add(header.path);
        if (entry.type !== header.type) throw fail(header.path, `is a ${header.type} in the archive, the manifest says ${entry.type}`);
        if (entry.type === 'file' && entry.size !== header.size) throw fail(header.path, `is ${header.size} bytes in the archive, the manifest says ${entry.size}`);
        if (entry.type === 'symlink' && entry.linkTarget !== header.linkTarget) throw fail(header.path, `points at "${header.linkTarget}" in the archive, the manifest says "${entry.linkTarget}"`);
        const target = path.join(stagingDir, ...header.path.split('/'));
        current = { entry, header, written: 0 };
        if (entry.type === 'directory') await mkdir(target, { recursive: true, mode: 0o700 });
        if (entry.type === 'symlink') symlinks.push(entry);
        if (entry.type === 'file') {
          await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
          current.handle = await open(target, 'wx', 0o600);
          current.hash = createHash('sha256');
        }
      } else if (event.type === 'data') {
        if (!current?.handle) throw new Error('tar data outside a file entry');
        current.hash!.update(event.chunk);
        await current.handle.write(event.chunk);
        current.written += event.chunk.length;
      } else if (current) {
        if (current.handle) {
          await current.handle.close();
          current.handle = undefined;
          const sha256 = current.hash!.digest('hex');
          if (sha256 !== current.entry.sha256) throw fail(current.entry.path, `has sha256 ${sha256} in the archive, the manifest says ${current.entry.sha256}`);
          options.onFile?.(++files);
        }
        current = undefined;
      }
    }
    // Read to the end of the gzip stream, so the tar's sha256 (checked against the manifest) covers every byte.
    for await (const _rest of source) { /* hashed on the way */ }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await current?.handle?.close().catch(() => undefined);
    source.destroy();
  }
  for (const entry of manifest) if (!seen.has(entry.path)) throw fail(entry.path, `is in the manifest but not in the archive (a ${entry.type})`);
  for (const entry of symlinks) await symlink(entry.linkTarget!, path.join(stagingDir, ...entry.path.split('/')));
  await applyMetadata(stagingDir, manifest, options.applyOwnership);
  return { tarSha256: tar.sha256!, tarSizeBytes: tar.sizeBytes };
}

/**
 * Owners first (chown clears setuid/setgid bits), then modes, then mtimes; directories deepest
 * first, after their contents, so a read-only directory does not block setting what is inside it.
 */
export async function applyMetadata(root: string, manifest: readonly ManifestEntry[], applyOwnership: boolean): Promise<void> {
  const ordered = [...manifest].sort((a, b) => (a.type === 'directory' ? 1 : 0) - (b.type === 'directory' ? 1 : 0) || b.path.split('/').length - a.path.split('/').length);
  for (const entry of ordered) {
    const target = path.join(root, ...entry.path.split('/'));
    if (applyOwnership) {
      const owner = ownerOnThisMachine(entry);
      await lchown(target, owner.uid, owner.gid);
    }
    const when = mtimeOf(entry);
    if (entry.type === 'symlink') {
      await lutimes(target, when, when);
      continue;
    }
    await chmod(target, entry.mode);
    await utimes(target, when, when);
  }
}
