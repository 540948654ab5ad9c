/**
 * AppRuntime port: the application the runbooks cut over. Adapters: local (the demo financial service,
 * one process, DATABASE_URL in an env file) and Kubernetes (the Deployment's database Secret, a rollout
 * restart through the restartedAt annotation, rollout status, replicas). Shaped by what every runtime can
 * do: the database is a secret reference (never a password), a restart says when and what happened,
 * health is named checks. Nothing here returns a password or a full connection URL.
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
}

export interface PointAppResult {
  current: AppPointer;
  previous: AppPointer | null;
  /** false when the app already pointed at the target (a retried step). */
  changed: boolean;
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

export interface AppRuntime {
  /** Points the application at the target; takes effect at the next restart. Keeps the previous pointer. */
  pointAppAt(target: AppDatabaseTarget): Promise<PointAppResult>;
  /**
   * Points the application's cache (seed 002's Redis) at the target; takes effect at the next restart.
   * Optional until every runtime adapter has it: a runtime without it cannot cut a cache over, and says so.
   */
  pointAppAtCache?(target: AppCacheTarget): Promise<PointAppResult>;
  /** Restores the pointer kept by the last pointAppAt; idempotent (the kept pointer is not consumed). */
  rollbackAppPointer(): Promise<PointAppResult>;
  currentPointer(): Promise<AppPointer | null>;
  restart(): Promise<RestartResult>;
  /** Resolves when the app answers healthy from the expected database; rejects with the last answer on timeout. */
  waitHealthy(options: WaitHealthyOptions): Promise<AppHealth>;
  /** Runs this many replicas of the application (0 stops it). */
  scale(replicas: number): Promise<{ replicas: number }>;
}
