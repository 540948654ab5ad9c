import type { ObjectStore } from './object-store';

/**
 * What S3 versioning adds to the ObjectStore port: every put keeps the object's earlier versions, so a
 * backup overwritten by a bad one (or by ransomware) can still be restored. Adapters: a directory that
 * keeps versions beside each key (the embedded default) and S3 with bucket versioning enabled.
 *
 * Version ids are opaque strings chosen by the store (S3's are 32 characters of base64-ish text).
 */
export interface ObjectVersion {
  key: string;
  versionId: string;
  /** When this version was written (S3's LastModified), ISO 8601 with milliseconds. */
  lastModified: string;
  sizeBytes: number;
  /** The version `get(key)` returns. */
  isLatest: boolean;
  /** S3 marks a deleted key with a delete marker: the key reads as absent from then on, earlier versions stay. */
  deleteMarker: boolean;
}

export interface VersionedObjectStore extends ObjectStore {
  /** Writes a new version of the object and returns its id; earlier versions are kept. */
  putVersion(key: string, body: string | Buffer, contentType?: string): Promise<{ versionId: string }>;
  /** undefined when the key has no such version (or the version is a delete marker). */
  getVersion(key: string, versionId: string): Promise<Buffer | undefined>;
  /** Every version of exactly this key, oldest first. */
  listVersions(key: string): Promise<ObjectVersion[]>;
  /**
   * The version that `get(key)` would have returned at `time`: the newest version written at or before
   * it. undefined when the key did not exist then, or was deleted (a delete marker was current).
   */
  versionAt(key: string, time: Date): Promise<ObjectVersion | undefined>;
}

/** The newest version written at or before `time`, as S3 answers "the version current at a time". */
export function versionCurrentAt(versions: readonly ObjectVersion[], time: Date): ObjectVersion | undefined {
  let current: ObjectVersion | undefined;
  for (const version of versions) {
    if (Date.parse(version.lastModified) <= time.getTime()) current = version;
  }
  return current && !current.deleteMarker ? current : undefined;
}
