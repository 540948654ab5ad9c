/**
 * CachePlatform port: the Redis operations a cache recovery needs, whatever runs Redis.
 * Adapters: local (redis-server 7 instances on loopback, the embedded default), aws (ElastiCache).
 *
 * Backups are of three kinds: an *RDB* snapshot (what `BGSAVE` writes; what ElastiCache calls a
 * snapshot), the *AOF* (Redis 7's append-only directory: a manifest, a base file and incremental
 * files; not every platform has one, see `backupKinds`), and a *session export* (the keys matching
 * the application's session pattern as JSON, key -> type, value, TTL, as the MINGUS plan writes it).
 * Each backup is stored with its metadata (when, keys per database, sha256 and size of every object,
 * a sample of keys with digests of their values) and is checked against it before any restore.
 *
 * Every operation that builds something takes the id of what it builds (instance or backup): the
 * caller derives it from its workflow and step, so a retry finds what an earlier attempt made.
 * Results carry ids, endpoints and facts; never a password (see `connectionFor`).
 */

/** [a-z0-9-], 1-63 characters, starting with a letter (valid as a directory and an ElastiCache id). */
export type CacheInstanceId = string;

export type CacheBackupKind = 'rdb' | 'aof' | 'sessions';

/** The Redis types a backup sample and a session export understand. */
export type CacheValueType = 'string' | 'hash' | 'list' | 'set' | 'zset';

export interface CacheEndpoint {
  host: string;
  port: number;
  tls: boolean;
}

/** How an instance came to be; kept with it so a retry can tell whether it is what was asked for. */
export type CacheInstanceOrigin =
  | { kind: 'enrolled' }
  | { kind: 'backup'; backupId: string; backupKind: 'rdb' | 'aof'; sourceInstanceId: CacheInstanceId };

/** One database's line of INFO keyspace. */
export interface KeyspaceCount {
  db: number;
  keys: number;
  /** Keys with a TTL. */
  expires: number;
}

export interface CacheInstanceDescription {
  instanceId: CacheInstanceId;
  /** creating: an operation is building it (or was, when a worker died); available: built and serving. */
  status: 'creating' | 'available' | 'deleting';
  acceptingConnections: boolean;
  endpoint: CacheEndpoint;
  origin: CacheInstanceOrigin;
  /** Production and other enrolled instances: never deleted by a runbook. */
  protected: boolean;
  createdAt: string;
  /** The rest is read from the running server (absent while it does not answer). */
  engineVersion?: string;
  role?: 'primary' | 'replica';
  persistence?: { rdb: boolean; aof: boolean; appendfsync?: string };
  keyspace?: KeyspaceCount[];
}

/** One stored object of a backup. */
export interface CacheBackupObject {
  /** Its name inside the backup: "dump.rdb", "appendonlydir/appendonly.aof.1.base.rdb", "sessions.json". */
  name: string;
  key: string;
  sizeBytes: number;
  sha256: string;
}

/**
 * A key recorded at backup time to be compared after a restore. The value itself is not kept in the
 * metadata, only its digest: sha256 over the type and the value in a canonical form (hash fields and
 * set members sorted, lists in order, sorted sets by score).
 */
export interface SampledKey {
  db: number;
  /** The key as UTF-8, or base64 when `keyEncoding` says so (a key that is not valid UTF-8). */
  key: string;
  keyEncoding?: 'base64';
  type: CacheValueType;
  digest: string;
  /** Absolute expiry (ISO 8601) when the key has a TTL. */
  expiresAt?: string;
}

export interface CacheBackup {
  backupId: string;
  kind: CacheBackupKind;
  sourceInstanceId: CacheInstanceId;
  /** When the backup's content was cut (for RDB: when BGSAVE forked), by the server's clock. */
  takenAt: string;
  engineVersion: string;
  /** Keys per database in the backup itself (for sessions: the exported session keys). */
  keyspace: KeyspaceCount[];
  objects: CacheBackupObject[];
  totalBytes: number;
  sample: SampledKey[];
  sessions?: { pattern: string; db: number; exported: number; skipped: Array<{ key: string; type: string }> };
}

export interface CacheBackupResult {
  backup: CacheBackup;
  /** True when an earlier attempt with the same backupId had finished it, and this call returned it. */
  reused: boolean;
}

export interface CacheRestoreResult {
  instance: CacheInstanceDescription;
  backupId: string;
  reused: boolean;
}

export interface CacheVerification {
  instanceId: CacheInstanceId;
  backupId: string;
  ok: boolean;
  /** The server's answer to PING ("PONG"), or the error. */
  ping: string;
  /**
   * Per database: keys without a TTL must match exactly; keys with one may have expired since the
   * backup, so the instance may hold fewer of those, never more.
   */
  keyspace: Array<{ db: number; expectedKeys: number; actualKeys: number; expectedExpires: number; actualExpires: number; ok: boolean }>;
  sample: { checked: number; matched: number; expiredSinceBackup: number; mismatches: Array<{ db: number; key: string; problem: string }> };
  /** One line per failed check, for the runbook's timeline. */
  problems: string[];
}

export interface SessionRestoreResult {
  instanceId: CacheInstanceId;
  backupId: string;
  /** Keys in the export. */
  total: number;
  /** Written, each with the TTL it had left (its expiry time kept), not the TTL it had at export. */
  restored: number;
  /** Expired between the export and now: not restored. */
  skippedExpired: number;
  /** Already on the instance (a session newer than the export), kept as it is (`existing: 'keep'`). */
  skippedExisting: number;
  /** Overwritten (`existing: 'replace'`). */
  replaced: number;
}

/** Progress of a long operation, for heartbeats. */
export interface CacheOperationProgress {
  phase: 'checking' | 'backing-up' | 'uploading' | 'downloading' | 'verifying' | 'starting' | 'loading' | 'restoring' | 'stopping';
  bytesDone?: number;
  bytesTotal?: number;
  keysDone?: number;
  message?: string;
}

export interface CacheOperationOptions {
  /** Aborting stops the operation and removes what it half-built. */
  signal?: AbortSignal;
  onProgress?: (progress: CacheOperationProgress) => void;
}

/** Connection details of an instance, password included: for the worker's own clients only. */
export interface CacheConnection {
  host: string;
  port: number;
  tls: boolean;
  /** Redis 6 ACL user; undefined means the default user (requirepass / AUTH token). */
  username?: string;
  password: string;
}

export interface CachePlatform {
  /** The backup kinds this platform can take and restore (ElastiCache has no AOF backups). */
  readonly backupKinds: readonly CacheBackupKind[];
  describeInstance(instanceId: CacheInstanceId): Promise<CacheInstanceDescription>;
  /**
   * Takes a backup of a running instance and stores it with its metadata. Idempotent by backupId.
   * `sessions`: the key pattern (SCAN MATCH syntax, default "session:*") and database (default 0).
   * `sampleSize`: keys recorded for verification (default 50).
   */
  takeBackup(input: { backupId: string; sourceInstanceId: CacheInstanceId; kind: CacheBackupKind; sessions?: { pattern?: string; db?: number }; sampleSize?: number }, options?: CacheOperationOptions): Promise<CacheBackupResult>;
  /** Backups in the object store, oldest first; only those of one source when given. */
  listBackups(sourceInstanceId?: CacheInstanceId): Promise<CacheBackup[]>;
  describeBackup(backupId: string): Promise<CacheBackup>;
  /** Restores an RDB or AOF backup into a NEW instance, after checking every object's checksum. */
  restoreBackupToNewInstance(input: { instanceId: CacheInstanceId; backupId: string }, options?: CacheOperationOptions): Promise<CacheRestoreResult>;
  /** PING, keys per database against the backup's metadata, the sampled keys' types, values and expiry. */
  verifyInstance(input: { instanceId: CacheInstanceId; backupId: string }, options?: CacheOperationOptions): Promise<CacheVerification>;
  /** Writes a session export into a running instance; expired sessions are skipped, TTLs keep their expiry time. */
  restoreSessions(input: { instanceId: CacheInstanceId; backupId: string; existing?: 'keep' | 'replace' }, options?: CacheOperationOptions): Promise<SessionRestoreResult>;
  /** Stops and removes an instance; refused for protected instances. Deleting one that does not exist is a no-op. */
  deleteInstance(instanceId: CacheInstanceId, options?: CacheOperationOptions): Promise<{ deleted: boolean }>;
  waitUntilAvailable(instanceId: CacheInstanceId, options?: CacheOperationOptions & { timeoutMs?: number }): Promise<CacheInstanceDescription>;
  /**
   * Worker-side only: how the worker's clients reach an instance. undefined for an unknown id.
   * Asynchronous: a cloud platform looks the endpoint up and reads the instance's password when asked.
   */
  connectionFor(instanceId: CacheInstanceId): Promise<CacheConnection | undefined>;
}
