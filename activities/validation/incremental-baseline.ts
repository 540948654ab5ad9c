import type { Pool } from 'pg';
import type { IncrementalBaseline } from './baseline';
import { measureSegments, type TableSegments } from './block-segments';
import type { ApplicationDeclaration } from './declaration';
import type { TableFigures } from './measure';
import { resolveTable } from './schema-catalog';
import { readWalAnchor } from './wal-anchor';

/**
 * The incremental part of a baseline, read on the restored copy beside its figures: its place in the WAL
 * and every table by block segment. Undefined for a database that is no restored copy (a live primary,
 * a copy by CREATE DATABASE): it has no LSN its figures belong to, and its baseline is checked whole.
 */
export async function captureIncrementalBaseline(db: Pool, app: ApplicationDeclaration | undefined, tables: Record<string, TableFigures>, onTable?: (table: string) => void): Promise<IncrementalBaseline | undefined> {
  const anchor = await readWalAnchor(db);
  if ('none' in anchor) return undefined;
  const keys = new Map<string, string>();
  for (const [name, t] of Object.entries(app?.tables ?? {})) {
    const resolved = await resolveTable(db, name);
    if (resolved) keys.set(resolved, t.key);
  }
  const segments: Record<string, TableSegments> = {};
  for (const [table, figures] of Object.entries(tables)) {
    onTable?.(table);
    segments[table] = await measureSegments(db, table, Object.keys(figures.money), keys.get(table));
  }
  return { formatVersion: 1, anchor, tables: segments };
}
