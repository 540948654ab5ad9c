import { applicationSchemas, type Queryable } from './schema-catalog';

// The schema as integrity depends on it: every column with its type and NOT NULL, every constraint
// (primary key, UNIQUE, CHECK, foreign key, exclusion) with its definition, every index not backing a
// constraint. Taken with the baseline; a recovered copy whose schema lost any of it is named.

export interface ColumnPrint {
  table: string;
  column: string;
  type: string;
  notNull: boolean;
}

export interface ConstraintPrint {
  table: string;
  name: string;
  kind: string;
  /** pg_get_constraintdef(): "UNIQUE (reference)", "CHECK ((target_amount > (0)::numeric))", "... NOT VALID". */
  definition: string;
}

export interface IndexPrint {
  table: string;
  name: string;
  definition: string;
}

export interface SchemaFingerprint {
  columns: ColumnPrint[];
  constraints: ConstraintPrint[];
  indexes: IndexPrint[];
}

export interface SchemaDifference {
  /** What it is about, e.g. "transactions.description", "constraint transactions_reference_key". */
  object: string;
  /** In words: "NOT NULL dropped", "UNIQUE constraint dropped: UNIQUE (reference)". */
  change: string;
  /** weakened: an integrity guarantee the baseline had is gone or changed; added: the schema grew. */
  kind: 'weakened' | 'added';
}

const constraintKinds: Record<string, string> = { p: 'PRIMARY KEY', u: 'UNIQUE', c: 'CHECK', f: 'FOREIGN KEY', x: 'EXCLUDE', t: 'constraint trigger' };

export async function readSchemaFingerprint(db: Queryable): Promise<SchemaFingerprint> {
  const tables = `c.relkind IN ('r', 'p') AND NOT c.relispartition AND ${applicationSchemas}`;
  const columns = await db.query<{ table: string; column: string; type: string; not_null: boolean }>(`
    SELECT c.oid::regclass::text AS table, a.attname::text AS column, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${tables} AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY 1, a.attnum`);
  const constraints = await db.query<{ table: string; name: string; kind: string; definition: string }>(`
    SELECT c.oid::regclass::text AS table, k.conname::text AS name, k.contype::text AS kind, pg_get_constraintdef(k.oid) AS definition
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${tables}
    ORDER BY 1, 2`);
  const indexes = await db.query<{ table: string; name: string; definition: string }>(`
    SELECT c.oid::regclass::text AS table, i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${tables} AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid)
    ORDER BY 1, 2`);
  return {
    columns: columns.rows.map((r) => ({ table: r.table, column: r.column, type: r.type, notNull: r.not_null })),
    constraints: constraints.rows.map((r) => ({ table: r.table, name: r.name, kind: constraintKinds[r.kind] ?? r.kind, definition: r.definition })),
    indexes: indexes.rows,
  };
}

/** Pure: what the current schema lost or changed against the baseline's (weakened), and what it gained (added). */
export function diffSchema(baseline: SchemaFingerprint, current: SchemaFingerprint): SchemaDifference[] {
  const differences: SchemaDifference[] = [];
  const weakened = (object: string, change: string) => differences.push({ object, change, kind: 'weakened' });
  const added = (object: string, change: string) => differences.push({ object, change, kind: 'added' });
  const tablesOf = (f: SchemaFingerprint) => new Set(f.columns.map((c) => c.table));
  const [thenTables, nowTables] = [tablesOf(baseline), tablesOf(current)];
  for (const table of thenTables) if (!nowTables.has(table)) weakened(`table ${table}`, 'dropped');
  for (const table of nowTables) if (!thenTables.has(table)) added(`table ${table}`, 'added');

  const byKey = <T>(items: T[], key: (t: T) => string) => new Map(items.map((t) => [key(t), t]));
  const columnsNow = byKey(current.columns, (c) => `${c.table}.${c.column}`);
  const columnsThen = byKey(baseline.columns, (c) => `${c.table}.${c.column}`);
  for (const [name, then] of columnsThen) {
    if (!nowTables.has(then.table)) continue;
    const now = columnsNow.get(name);
    if (!now) weakened(name, `column dropped (was ${then.type}${then.notNull ? ' NOT NULL' : ''})`);
    else {
      if (now.type !== then.type) weakened(name, `type changed: ${then.type} → ${now.type}`);
      if (then.notNull && !now.notNull) weakened(name, 'NOT NULL dropped');
      if (!then.notNull && now.notNull) added(name, 'NOT NULL added');
    }
  }
  for (const [name, now] of columnsNow) if (thenTables.has(now.table) && !columnsThen.has(name)) added(name, `column added (${now.type}${now.notNull ? ' NOT NULL' : ''})`);

  const compare = <T extends { table: string; name: string; definition: string }>(then: T[], now: T[], what: (t: T) => string) => {
    const nowByName = byKey(now, (t) => `${t.table}/${t.name}`);
    const thenByName = byKey(then, (t) => `${t.table}/${t.name}`);
    for (const [key, t] of thenByName) {
      if (!nowTables.has(t.table)) continue;
      const n = nowByName.get(key);
      if (!n) weakened(`${what(t)} ${t.name} on ${t.table}`, `dropped: ${t.definition}`);
      else if (n.definition !== t.definition) weakened(`${what(t)} ${t.name} on ${t.table}`, `changed: ${t.definition} → ${n.definition}`);
    }
    for (const [key, n] of nowByName) if (thenTables.has(n.table) && !thenByName.has(key)) added(`${what(n)} ${n.name} on ${n.table}`, `added: ${n.definition}`);
  };
  compare(baseline.constraints, current.constraints, (c) => `${c.kind} constraint`);
  compare(baseline.indexes, current.indexes, () => 'index');
  return differences;
}
