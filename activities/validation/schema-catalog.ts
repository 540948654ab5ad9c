import type { QueryResult, QueryResultRow } from 'pg';

/** A pool or a checked-out client: anything that runs a parameterised query. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

/** Our tables live outside the system schemas; temp and toast schemas are never the application's. */
export const applicationSchemas = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;

export interface ForeignKey {
  name: string;
  /** Table names as PostgreSQL prints a regclass: quoted where needed, schema-qualified when off the search path. */
  childTable: string;
  childColumns: string[];
  /** The child table's primary key, to name offending rows (empty when it has none). */
  childKeyColumns: string[];
  parentTable: string;
  parentColumns: string[];
  /** false for a constraint added NOT VALID and never validated: existing rows were not checked. */
  validated: boolean;
  /** RI triggers switched off (ALTER TABLE ... DISABLE TRIGGER ALL): new rows are not checked either. */
  disabledTriggers: number;
}

/** Every foreign key of the application's schemas, read from pg_constraint so a new one is covered without code changes. */
export async function listForeignKeys(db: Queryable): Promise<ForeignKey[]> {
  const result = await db.query<{ name: string; child_table: string; parent_table: string; child_columns: string[]; child_key_columns: string[]; parent_columns: string[]; validated: boolean; disabled_triggers: number }>(`
    SELECT c.conname::text AS name,
           c.conrelid::regclass::text AS child_table,
           c.confrelid::regclass::text AS parent_table,
           c.convalidated AS validated,
           (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS child_columns,
           (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS parent_columns,
           (SELECT coalesce(array_agg(a.attname::text ORDER BY k.ord), '{}') FROM pg_index i CROSS JOIN unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              WHERE i.indrelid = c.conrelid AND i.indisprimary) AS child_key_columns,
           (SELECT count(*) FROM pg_trigger t WHERE t.tgconstraint = c.oid AND t.tgenabled = 'D')::int AS disabled_triggers
    FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
    WHERE c.contype = 'f' AND ${applicationSchemas}
    ORDER BY 2, 1`);
  return result.rows.map((r) => ({
    name: r.name,
    childTable: r.child_table,
    childColumns: r.child_columns,
    childKeyColumns: r.child_key_columns,
    parentTable: r.parent_table,
    parentColumns: r.parent_columns,
    validated: r.validated,
    disabledTriggers: r.disabled_triggers,
  }));
}

/** Ordinary and partitioned tables of the application's schemas (partitions are counted through their parent). */
export async function listTables(db: Queryable): Promise<string[]> {
  const result = await db.query<{ name: string }>(`
    SELECT c.oid::regclass::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND ${applicationSchemas}
    ORDER BY 1`);
  return result.rows.map((r) => r.name);
}

export interface ColumnDescription {
  name: string;
  /** format_type(): the type with its modifiers, e.g. "numeric(14,2)", usable in a cast. */
  type: string;
  /** Generated columns are computed by the server and cannot be inserted. */
  generated: boolean;
  /** The sequence behind a serial or identity column, already quoted, or null. */
  sequence: string | null;
}

export interface TableDescription {
  table: string;
  columns: ColumnDescription[];
  primaryKey: string[];
}

/** Resolves a table name the way the server would (search path, quoting); undefined when there is no such table. */
export async function resolveTable(db: Queryable, name: string): Promise<string | undefined> {
  const result = await db.query<{ name: string | null }>('SELECT to_regclass($1)::text AS name', [name]);
  return result.rows[0]?.name ?? undefined;
}

export async function describeTable(db: Queryable, table: string): Promise<TableDescription> {
  const columns = await db.query<{ name: string; type: string; generated: boolean; sequence: string | null }>(`
    SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attgenerated <> '' AS generated,
           pg_get_serial_sequence($1, a.attname) AS sequence
    FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY a.attnum`, [table]);
  const key = await db.query<{ columns: string[] | null }>(`
    SELECT array_agg(a.attname::text ORDER BY k.ord) AS columns
    FROM pg_index i CROSS JOIN unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
    WHERE i.indrelid = $1::regclass AND i.indisprimary`, [table]);
  return { table, columns: columns.rows, primaryKey: key.rows[0]?.columns ?? [] };
}

/** "a""b" for a"b: identifiers are quoted in Node only for names the catalog gave us. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Tables ordered so every parent comes before the tables that reference it (self-references are
 * ignored; a cycle keeps its members in name order, after everything they depend on outside it).
 */
export function parentsFirst(tables: readonly string[], foreignKeys: readonly ForeignKey[]): string[] {
  const wanted = new Set(tables);
  const ordered: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (table: string) => {
    if (state.get(table)) return;
    state.set(table, 'visiting');
    for (const fk of foreignKeys) {
      if (fk.childTable === table && fk.parentTable !== table && wanted.has(fk.parentTable)) visit(fk.parentTable);
    }
    state.set(table, 'done');
    ordered.push(table);
  };
  for (const table of [...tables].sort()) visit(table);
  return ordered;
}
