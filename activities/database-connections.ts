import type { Pool } from 'pg';
import type { InstanceConnection } from './ports/database-platform';

/**
 * Where a database is and how to sign in to it, by name: a database in the worker config, or an instance
 * the platform built or enrolled (a restored copy, a promoted replica). Worker-side only: the password is
 * read when a connection is made, from the SecretStore or the platform, and never leaves the worker.
 */
export interface DatabaseConnection extends Omit<InstanceConnection, 'password'> {
  /** The name asked for (config name or instance id): what history and the timeline show. */
  name: string;
  password(): Promise<string>;
}

/**
 * A pool per database name, for the activities that run SQL. Asynchronous because an instance's endpoint
 * is the platform's answer at the time of asking (a cloud platform looks it up).
 */
export interface DatabaseDirectory {
  pool(name: string): Promise<Pool>;
}

/** The worker's one name-to-connection resolver, and the pools built on it. */
export interface DatabaseConnections extends DatabaseDirectory {
  /** Rejects, naming the known databases, for a name that is neither in the config nor a platform instance. */
  connection(name: string): Promise<DatabaseConnection>;
}
