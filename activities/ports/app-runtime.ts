/**
 * AppRuntime port: the application the runbooks cut over. Adapters: local (the demo financial
 * service, DATABASE_URL in an env file, one process) and Kubernetes (Secret update, rollout restart,
 * rollout status). Nothing here returns a password or a full connection URL.
 */

/** Where the application should connect. The password is resolved by the worker from a secret, by name. */
export interface AppDatabaseTarget {
  /** The database's name in the worker config (or the platform's instance id): what history shows. */
  name: string;
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
}

/** What the application's health endpoint says it is connected to (never credentials). */
export interface AppDatabaseIdentity {
  /** host:port actually connected to (after name resolution). */
  address: string;
  database: string;
  /** pg_control_system().system_identifier; a physical restore keeps its source's identifier. */
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

export interface AppHealth {
  database: AppDatabaseIdentity & { host: string; port: number };
  checkedAt: string;
  serverVersion: string;
  userCount: number;
  transactionCount: number;
  totalAmount: string;
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

export interface RestartResult {
  stoppedPids: number[];
  startedPids: number[];
}

export interface AppRuntime {
  /** Points the application at the target; takes effect at the next restart. Keeps the previous pointer. */
  pointAppAt(target: AppDatabaseTarget): Promise<PointAppResult>;
  /** Restores the pointer kept by the last pointAppAt; idempotent (the kept pointer is not consumed). */
  rollbackAppPointer(): Promise<PointAppResult>;
  currentPointer(): Promise<AppPointer | null>;
  restart(): Promise<RestartResult>;
  /** Resolves when the app answers healthy from the expected database; rejects with the last answer on timeout. */
  waitHealthy(options: WaitHealthyOptions): Promise<AppHealth>;
  scale(replicas: number): Promise<{ replicas: number }>;
}
