import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Pool, PoolClient } from 'pg';
import type { AvailableMigration, MigrationStatus, MigrationTool, RollbackPlan } from '../../ports/migration-tool';

// Files are `<version>_<name>.up.sql` and `<version>_<name>.down.sql`; versions compare numerically
// when they are digits (0001 < 0010), as the usual migration tools do.
const fileName = /^(\d+)_([a-z0-9_-]+)\.(up|down)\.sql$/i;

interface MigrationFiles extends AvailableMigration {
  up?: string;
  down?: string;
}

function compareVersions(a: string, b: string): number {
  return BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;
}

function readMigrationDirectory(directory: string): MigrationFiles[] {
  if (!existsSync(directory)) throw new Error(`migrations directory ${directory} does not exist`);
  const byVersion = new Map<string, MigrationFiles>();
  for (const file of readdirSync(directory)) {
    const match = fileName.exec(file);
    if (!match) continue;
    const [, version, name, direction] = match as unknown as [string, string, string, 'up' | 'down'];
    const entry = byVersion.get(version) ?? { version, name, reversible: false };
    if (entry.name !== name) throw new Error(`migration ${version} has two names: ${entry.name} and ${name}`);
    entry[direction] = path.join(directory, file);
    entry.reversible = entry.down !== undefined;
    byVersion.set(version, entry);
  }
  return [...byVersion.values()].sort((a, b) => compareVersions(a.version, b.version));
}

const ensureTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    text PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/** The local MigrationTool: a directory of SQL files applied to one database through a pool. */
export function createSqlDirectoryMigrationTool(pool: Pool, directory: string): MigrationTool {
  async function status(): Promise<MigrationStatus> {
    await pool.query(ensureTable);
    const rows = await pool.query<{ version: string; name: string; applied_at: Date }>('SELECT version, name, applied_at FROM schema_migrations');
    const applied = rows.rows
      .map((r) => ({ version: r.version, name: r.name, appliedAt: r.applied_at.toISOString() }))
      .sort((a, b) => compareVersions(a.version, b.version));
    const available = readMigrationDirectory(directory).map(({ version, name, reversible }) => ({ version, name, reversible }));
    return { current: applied.at(-1)?.version ?? null, applied, available };
  }

  async function planRollback(toVersion: string): Promise<RollbackPlan> {
    const current = await status();
    const files = new Map(readMigrationDirectory(directory).map((m) => [m.version, m]));
    const blockers: string[] = [];
    if (!/^\d+$/.test(toVersion)) blockers.push(`target version "${toVersion}" is not a version number`);
    else if (toVersion !== '0' && !current.applied.some((m) => m.version === toVersion)) {
      blockers.push(`target version ${toVersion} was never applied (applied: ${current.applied.map((m) => m.version).join(', ') || 'none'})`);
    }
    const undo = blockers.length ? [] : current.applied.filter((m) => compareVersions(m.version, toVersion) > 0).reverse();
    for (const m of undo) {
      const file = files.get(m.version);
      if (!file) blockers.push(`migration ${m.version} (${m.name}) is applied but its files are gone`);
      else if (!file.down) blockers.push(`migration ${m.version} (${m.name}) has no down script`);
    }
    return { from: current.current, to: toVersion, steps: undo.map(({ version, name }) => ({ version, name })), blockers };
  }

  /** Every step of a migration run in one transaction: all of it happens, or none of it. */
  async function inMigrationTransaction(work: (client: PoolClient) => Promise<void>): Promise<void> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // Serialises with a concurrent migration run, which takes the same lock.
      await client.query('LOCK TABLE schema_migrations IN EXCLUSIVE MODE');
      await work(client);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }

  return {
    status,
    planRollback,
    async rollback(toVersion) {
      const plan = await planRollback(toVersion);
      if (plan.blockers.length) throw new Error(`cannot roll back to ${toVersion}: ${plan.blockers.join('; ')}`);
      const files = new Map(readMigrationDirectory(directory).map((m) => [m.version, m]));
      await inMigrationTransaction(async (client) => {
        for (const step of plan.steps) {
          await client.query(readFileSync(files.get(step.version)!.down!, 'utf8'));
          await client.query('DELETE FROM schema_migrations WHERE version = $1', [step.version]);
        }
      });
      return plan;
    },
    async migrate(toVersion) {
      const current = await status();
      const appliedVersions = new Set(current.applied.map((m) => m.version));
      const todo = readMigrationDirectory(directory).filter((m) => !appliedVersions.has(m.version) && (toVersion === undefined || compareVersions(m.version, toVersion) <= 0));
      const missingUp = todo.filter((m) => !m.up);
      if (missingUp.length) throw new Error(`migrations without an up script: ${missingUp.map((m) => m.version).join(', ')}`);
      await inMigrationTransaction(async (client) => {
        for (const m of todo) {
          await client.query(readFileSync(m.up!, 'utf8'));
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        }
      });
      return todo.map((m) => m.version);
    },
  };
}
