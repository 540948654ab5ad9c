import { existsSync } from 'node:fs';
import path from 'node:path';
import { PrerequisiteError } from '../lib/prerequisite-error';

export const repoRoot = path.resolve(__dirname, '..');

/** The Temporal CLI the bootstrap builds from its Go module (override: DR_TEMPORAL_BIN, or DR_CACHE_DIR for the cache). */
export function temporalBinary(): string {
  const bin = process.env.DR_TEMPORAL_BIN ?? path.join(process.env.DR_CACHE_DIR ?? path.join(repoRoot, '.cache'), 'bin', 'temporal');
  if (!existsSync(bin)) {
    throw new PrerequisiteError(`the Temporal CLI is not at ${bin}`, 'run `npm run bootstrap` (it builds the CLI with go install), or set DR_TEMPORAL_BIN');
  }
  return bin;
}

/** PostgreSQL 15 server binaries from Debian's postgresql-15 package (override: DR_PG_BIN). */
export function postgresBinDir(): string {
  const dir = process.env.DR_PG_BIN ?? '/usr/lib/postgresql/15/bin';
  if (!existsSync(path.join(dir, 'initdb')) || !existsSync(path.join(dir, 'pg_ctl'))) {
    throw new PrerequisiteError(`PostgreSQL 15 server binaries are not in ${dir}`, 'run `npm run bootstrap` (apt-get install postgresql-15), or set DR_PG_BIN');
  }
  return dir;
}

/** Where the demo keeps its state between runs (Temporal's SQLite file, clusters, logs). */
export function defaultStateDir(): string {
  return process.env.DR_STATE_DIR ?? path.join(repoRoot, '.state');
}
