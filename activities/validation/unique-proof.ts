import type { Queryable } from './schema-catalog';

// A unique index the server enforces proves that no two rows share its key columns, nor any superset of
// them (rows with a NULL in the key are never equal, in the index as in the checks). Only an index that
// is valid and live (not mid-CREATE INDEX CONCURRENTLY, not left invalid by a failed build), checked at
// once (not deferrable), over plain columns and the whole table (no predicate) proves anything. Read in
// the caller's transaction, so it is the catalog of the gate's own snapshot.

/** The name of a unique index of `table` whose key columns are all among `columns`, or undefined. */
export async function uniqueIndexProving(db: Queryable, table: string, columns: readonly string[]): Promise<string | undefined> {
  const result = await db.query<{ name: string }>(`
    SELECT i.indexrelid::regclass::text AS name FROM pg_index i
    WHERE i.indrelid = $1::regclass AND i.indisunique AND i.indisvalid AND i.indisready AND i.indislive AND i.indimmediate
      AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indnkeyatts > 0
      AND NOT EXISTS (SELECT 1 FROM unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) k(attnum)
                      WHERE k.attnum = 0 OR NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = k.attnum AND a.attname = ANY($2::text[])))
    ORDER BY i.indnkeyatts, 1 LIMIT 1`, [table, columns]);
  return result.rows[0]?.name;
}

