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

/** Where the demo keeps its state between runs (Temporal's SQLite file, clusters, logs). */
export function defaultStateDir(): string {
  return process.env.DR_STATE_DIR ?? path.join(repoRoot, '.state');
}
