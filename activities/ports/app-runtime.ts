/**
 * AppRuntime port: the application the runbooks cut over. Adapters: local (the demo financial service,
 * one process, DATABASE_URL in an env file) and Kubernetes (the Deployment's database Secret, a rollout
 * restart through the restartedAt annotation, rollout status, replicas). Shaped by what every runtime can
 * do: the database is a secret reference (never a password), a restart says when and what happened and
 * is waited for until every replica runs it, health is named checks, and the runtime names itself in its
 * own words for the timeline. Nothing here returns a password or a full connection URL.
 */
import type { DatabaseEndpoint } from '../../lib/postgres-url';
import type { SecretRef } from './secret-store';

export type { DatabaseEndpoint };

/** Where the application should connect, by reference: its connection is a secret in the SecretStore. */
export interface AppDatabaseTarget {
  /** The database's name in the worker config, or the platform's instance id: what history shows. */
  database: string;
  endpoint: DatabaseEndpoint;
  /** The secret version holding the application's connection to it (a URL with its credentials). */
  secret: SecretRef;
}

/** Where the application's cache should be, by reference: its connection (a redis URL with the instance's password) is a secret. */
export interface AppCacheTarget {
  /** The cache platform's instance id: what history shows. */
  cache: string;
  endpoint: { host: string; port: number; tls: boolean };
  /** The secret version holding the application's connection to it. */
  secret: SecretRef;
}

/** What the application's health endpoint says it is connected to (never credentials). */
export interface AppDatabaseIdentity {
  /** host:port actually connected to (after name resolution). */
  address: string;
  database: string;
  /** The server's own identity (PostgreSQL: pg_control_system().system_identifier; a physical restore keeps its source's). */
  systemIdentifier: string | null;
}

export interface AppPointer {
  /** host:port/dbname the app is configured for, as written (a DNS name stays a name). */
  endpoint: string;
  /** The config name the pointer was set for, when known. */
  name: string | null;
  /** The version of the connection secret it holds, when a runbook wrote it (a hand-written one has none). */
  secret?: SecretRef;
}

/** How the runtime names the application and what is done to it, for step names and timeline lines. */
export interface AppRuntimeNames {
  /** "deployment/mita-backend", "the application process". */
  application: string;
  /** Where the application's database connection is kept: "Secret mita-production/mita-db-config". */
  connection: string;
  /** The restart in the platform's words: "rollout restart deployment/mita-backend". */
  restart: string;
  /** Waiting for the restart to reach every replica: "rollout status deployment/mita-backend". */
  rolloutStatus: string;
}

export interface PointAppResult {
  current: AppPointer;
  previous: AppPointer | null;
  /** false when the app already pointed at the target (a retried step). */
  changed: boolean;
  /** The runtime's own names (absent from results recorded before the runtimes named themselves). */
  runtime?: AppRuntimeNames;
}

/** One named health check of the application, as the runtime reports it. */
export interface AppHealthCheck {
  name: string;
  passed: boolean;
  /** One line for the timeline: what was measured, or why it failed. */
  detail: string;
  /** The figures behind the line, when there are any (counts, totals), for reports and tests. */
  figures?: Record<string, string | number>;
}

export interface AppHealth {
  database: AppDatabaseIdentity & { host: string; port: number };
  checkedAt: string;
  /** Every check the runtime ran; healthy means all passed. */
  checks: AppHealthCheck[];
}

export interface WaitHealthyOptions {
  /**
   * Check the standby copy (the DR region's, the one scale() starts) instead of the primary: after a region
   * failover the primary region's copy is gone and the standby takes the traffic. A runtime with one copy checks that one.
   */
  standby?: boolean;
  /** The identity the app must answer from; without it, any healthy answer will do. */
  expect?: { address: string; database: string; systemIdentifier?: string | null };
  timeoutMs: number;
  intervalMs?: number;
  /** Called after every poll with a one-line summary (for heartbeats). */
  onPoll?: (attempt: number, lastAnswer: string) => void;
  signal?: AbortSignal;
}

/** A restart in the runtime's own words: a process replaced, a rollout restarted. */
export interface RestartResult {
  /** When the restart was made, ISO 8601. */
  restartedAt: string;
  /** What went away, e.g. "process 4711", "replica set mita-7d9f"; empty when nothing ran. */
  stopped: string[];
  /** What came up (or was asked to), e.g. "process 4712", "rollout of deployment/mita". */
  started: string[];
}

/** Where a restart has got to, as the platform reports it ("2 of 3 updated"). */
export interface RolloutStatus {
  application: string;
  /** Replicas asked for, updated to the current template, and available. */
  desired: number;
  updated: number;
  available: number;
  /** The platform's own line: 'deployment "mita-backend" successfully rolled out'. */
  message: string;
  /** The Deployment's generation the controller has acted on, when the runtime has one. */
  observedGeneration?: number;
  /** The rollout's revision, when the runtime numbers them (deployment.kubernetes.io/revision). */
  revision?: string;
}

export interface RolloutWaitOptions {
  /** Default: the runtime's own (config); a Deployment's progress deadline ends a stuck rollout sooner. */
  timeoutMs?: number;
  intervalMs?: number;
  /** Called after every poll with the platform's progress line ("2 of 3 updated"), for heartbeats. */
  onProgress?: (status: RolloutStatus) => void;
  signal?: AbortSignal;
}

/**
 * A restart that cannot finish: the Deployment's progress deadline passed (ProgressDeadlineExceeded),
 * the process exited, the wait timed out. Retrying the wait cannot help; the message says what the
 * platform said.
 */
/** A request the runtime, as configured, will not do (retrying cannot help); the message names what to configure. */
export class AppRuntimeRefusedError extends Error {
  override readonly name = 'AppRuntimeRefusedError';
}

export class RolloutFailedError extends Error {
  override readonly name = 'RolloutFailedError';
  constructor(message: string, readonly status?: RolloutStatus) {
    super(message);
  }
}

export interface AppRuntime {
  /** The application and its operations in the runtime's own words. */
  readonly names: AppRuntimeNames;
  /** Points the application at the target; takes effect at the next restart. Keeps the previous pointer. */
  pointAppAt(target: AppDatabaseTarget): Promise<PointAppResult>;
  /**
   * The connection the application holds now, as a version of the named connection secret: the version
   * it was pointed at, or its hand-written connection written there as a new version (so a rollback has
   * a version to go back to). null when the application has no connection yet.
   */
  adoptCurrentConnection(secretName: string): Promise<SecretRef | null>;
  /**
   * Points the application's cache (seed 002's Redis) at the target, beside its database connection;
   * takes effect at the next restart. Rejects with AppRuntimeRefusedError where the runtime is not
   * configured to hold a cache connection, naming the config key.
   */
  pointAppAtCache(target: AppCacheTarget): Promise<PointAppResult>;
  /** Restores the pointer kept by the last pointAppAt; idempotent (the kept pointer is not consumed). */
  rollbackAppPointer(): Promise<PointAppResult>;
  currentPointer(): Promise<AppPointer | null>;
  restart(): Promise<RestartResult>;
  /** Resolves when the last restart runs on every replica; rejects with RolloutFailedError when it cannot. */
  waitRolledOut(options?: RolloutWaitOptions): Promise<RolloutStatus>;
  /** Resolves when the app answers healthy from the expected database; rejects with the last answer on timeout. */
  waitHealthy(options: WaitHealthyOptions): Promise<AppHealth>;
  /**
   * Runs this many replicas of the application (0 stops it) and waits until they are available. Where a
   * standby copy is configured (the DR region's Deployment), it is the one scaled: the region outage starts it.
   */
  scale(replicas: number, options?: RolloutWaitOptions): Promise<{ replicas: number }>;
}
