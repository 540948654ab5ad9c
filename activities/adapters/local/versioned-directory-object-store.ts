import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createDirectoryObjectStore } from './directory-object-store';
import { assertObjectKey } from '../../ports/object-store';
import type { ObjectVersion, VersionedObjectStore } from '../../ports/versioned-object-store';
import { versionCurrentAt } from '../../ports/versioned-object-store';

const versionsSuffix = '.versions';
/** 13 digits of milliseconds since the epoch, a per-process sequence, a random tail: sorts by write time. */
const versionIdPattern = /^(\d{13})-(\d{6})-[0-9a-f]{8}$/;
/** What S3 calls the version of an object written before versioning was turned on. */
const nullVersion = 'null';

export interface VersionedDirectoryStoreOptions {
  /** The clock that stamps versions; tests pass one to place versions in time. */
  now?: () => Date;
}

/**
 * The VersionedObjectStore over a directory: `<key>` holds the current object (so the plain directory
 * store still reads it), `<key>.versions/<versionId>` every version ever written, the newest being the
 * current one. A version is written before the current copy, so after a crash between the two the
 * versions (which `get` reads) are right and the copy is refreshed by the next write.
 */
export function createVersionedDirectoryObjectStore(root: string, options: VersionedDirectoryStoreOptions = {}): VersionedObjectStore {
  const base = path.resolve(root);
  const plain = createDirectoryObjectStore(base);
  const now = options.now ?? (() => new Date());
  let sequence = 0;

  const checked = (key: string): string => {
    assertObjectKey(key);
    if (key.split('/').some((part) => part.endsWith(versionsSuffix))) {
      throw new Error(`object key "${key}" is not valid: a part ending in "${versionsSuffix}" is where this store keeps versions`);
    }
    return key;
  };

  const versionsDir = (key: string) => path.join(base, ...key.split('/').slice(0, -1), `${key.split('/').at(-1)}${versionsSuffix}`);

  async function versionIds(key: string): Promise<string[]> {
    try {
      return (await readdir(versionsDir(checked(key)))).filter((name) => versionIdPattern.test(name)).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  async function listVersions(key: string): Promise<ObjectVersion[]> {
    const ids = await versionIds(key);
    if (ids.length === 0) {
      // An object written before versioning: S3 lists it as the single version "null".
      const body = await plain.get(key);
      if (!body) return [];
      const mtime = (await stat(path.join(base, key))).mtime;
      return [{ key, versionId: nullVersion, lastModified: mtime.toISOString(), sizeBytes: body.length, isLatest: true, deleteMarker: false }];
    }
    return Promise.all(ids.map(async (versionId, index) => ({
      key,
      versionId,
      lastModified: new Date(Number(versionIdPattern.exec(versionId)![1])).toISOString(),
      sizeBytes: (await stat(path.join(versionsDir(key), versionId))).size,
      isLatest: index === ids.length - 1,
      deleteMarker: false,
    })));
  }

  async function getVersion(key: string, versionId: string): Promise<Buffer | undefined> {
    if (versionId === nullVersion) return (await versionIds(key)).length === 0 ? plain.get(key) : undefined;
    if (!versionIdPattern.test(versionId)) return undefined;
    try {
      return await readFile(path.join(versionsDir(checked(key)), versionId));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async function putVersion(key: string, body: string | Buffer, contentType?: string): Promise<{ versionId: string }> {
    checked(key);
    const versionId = `${String(now().getTime()).padStart(13, '0')}-${String(sequence++ % 1_000_000).padStart(6, '0')}-${randomBytes(4).toString('hex')}`;
    await plain.put(`${key}${versionsSuffix}/${versionId}`, body, contentType);
    await plain.put(key, body, contentType);
    return { versionId };
  }

  return {
    put: async (key, body, contentType) => { await putVersion(key, body, contentType); },
    async get(key) {
      const newest = (await versionIds(key)).at(-1);
      return newest ? getVersion(key, newest) : plain.get(checked(key));
    },
    async list(prefix) {
      return (await plain.list(prefix)).filter((key) => !key.split('/').slice(0, -1).some((part) => part.endsWith(versionsSuffix)));
    },
    putVersion,
    getVersion,
    listVersions,
    async versionAt(key, time) {
      return versionCurrentAt(await listVersions(key), time);
    },
  };
}
