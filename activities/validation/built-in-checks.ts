import type { SkippedCheck } from '../../contracts/validation';
import type { CheckDefinition } from './checks';
import type { ApplicationDeclaration, SameAsParent } from './declaration';
import { describeTable, quoteIdentifier, resolveTable, type ForeignKey, type Queryable } from './schema-catalog';

// The gate's SQL checks, every one read from the schema's catalog or the application's declaration:
// orphans and enforced foreign keys (from pg_constraint), balances against their ledger, a child's owner
// and currency against its parent's, business keys that must be unique, and time bounds both ways (no
// row dated after the incident beyond the clock skew; the newest row no older than the RPO).

export interface BuiltInCheckOptions {
  /** Every foreign key of the schema (from pg_constraint): one orphan check and one integrity check each. */
  foreignKeys: ForeignKey[];
  app?: ApplicationDeclaration;
  /** The declaration resolved against the database (resolveDeclaration). */
  resolved?: ResolvedDeclaration;
  /** ISO 8601; the time bounds are measured from it. The server's now() when omitted. */
  incidentTime?: string;
  rpoSeconds: number;
  clockSkewSeconds: number;
  /** Judge the newest rows against the RPO (not for a backup's own copy: an idle application is no fault there). */
  recency: boolean;
  /** The future bound: the incident (a restore holds nothing later) or now (data rolled back in place). */
  notDatedAfter: 'incident' | 'now';
  timeoutMs: number;
}

/** The declared tables as the server names them, and what of the declaration the database lacks. */
export interface ResolvedDeclaration {
  tables: Map<string, string>;
  /** "table.column" for every declared column the database lacks. */
  missingColumns: Set<string>;
  problems: string[];
}

/** Offending rows a zero-row check lists at most. */
const offendingRowLimit = 1000;
const noDeclaration = 'the worker config declares no application (application: tables, ledgers, ownership, currency, businessKeys)';

/** Checks every table and column the declaration names against the database's catalog. */
export async function resolveDeclaration(db: Queryable, app: ApplicationDeclaration | undefined): Promise<ResolvedDeclaration> {
  const tables = new Map<string, string>();
  const problems: string[] = [];
  const missingColumns = new Set<string>();
  if (!app) return { tables, missingColumns, problems };
  const columns = new Map<string, Set<string>>();
  for (const name of new Set([...Object.keys(app.tables), ...app.ledgers.flatMap((l) => [l.table, l.entries]), ...[...app.ownership, ...app.currency].flatMap((r) => [r.table, r.parent]), ...app.businessKeys.map((k) => k.table)])) {
    const resolved = await resolveTable(db, name);
    if (!resolved) {
      problems.push(`table ${name} is declared but not in the database`);
      continue;
    }
    tables.set(name, resolved);
    columns.set(name, new Set((await describeTable(db, resolved)).columns.map((c) => c.name)));
  }
  const need = (table: string, column: string | undefined, where: string) => {
    if (column === undefined || !columns.has(table)) return;
    if (!columns.get(table)!.has(column)) {
      problems.push(`${where}: column ${table}.${column} is not in the database`);
      missingColumns.add(`${table}.${column}`);
    }
  };
  for (const [name, t] of Object.entries(app.tables)) {
    need(name, t.key, `tables.${name}.key`);
    need(name, t.createdAt, `tables.${name}.createdAt`);
    for (const m of t.money) need(name, m, `tables.${name}.money`);
  }
  app.ledgers.forEach((l, i) => {
    need(l.table, l.balance, `ledgers.${i}`);
    need(l.entries, l.amount, `ledgers.${i}`);
    need(l.entries, l.through, `ledgers.${i}`);
  });
  for (const [kind, relations] of [['ownership', app.ownership], ['currency', app.currency]] as const) {
    relations.forEach((r, i) => {
      need(r.table, r.column, `${kind}.${i}`);
      need(r.table, r.through, `${kind}.${i}`);
      need(r.parent, r.parentColumn, `${kind}.${i}`);
    });
  }
  app.businessKeys.forEach((k, i) => k.columns.forEach((c) => need(k.table, c, `businessKeys.${i}`)));
  return { tables, missingColumns, problems };
}

export function builtInChecks(options: BuiltInCheckOptions): { checks: CheckDefinition[]; skipped: SkippedCheck[] } {
  const checks: CheckDefinition[] = [];
  const skipped: SkippedCheck[] = [];
  const { app, timeoutMs } = options;
  const resolved = options.resolved ?? { tables: new Map<string, string>(), missingColumns: new Set<string>(), problems: [] };
  /** The server's name of a declared table, or undefined (and the check is skipped) when it is missing. */
  const table = (name: string) => resolved.tables.get(name);
  const key = (name: string) => app?.tables[name]?.key;

  for (const fk of options.foreignKeys) checks.push(orphanCheck(fk, timeoutMs));
  for (const fk of options.foreignKeys) checks.push(integrityCheck(fk, timeoutMs));
  if (!app) {
    for (const [id, name] of [['ledger', 'Balances equal their ledger'], ['ownership', 'Owners match'], ['currency', 'Currencies match'], ['business-key', 'Business keys are unique'], ['time-bounds', 'No row dated after the incident; newest data within the RPO']]) skipped.push({ id, name: name!, reason: noDeclaration });
    return { checks, skipped };
  }
  if (resolved.problems.length) {
    checks.push({
      id: 'declaration',
      name: 'The application declared in the worker config matches the database',
      sql: `SELECT problem FROM unnest($1::text[]) AS problem`,
      params: [resolved.problems],
      expectation: { kind: 'zeroRows' },
      timeoutMs,
    });
  }
  /** True (and the check is skipped) when a table or column it reads is not in the database. */
  const missing = (id: string, name: string, tables: string[], columns: string[] = []) => {
    const absent = [...tables.filter((t) => !table(t)), ...columns.filter((c) => resolved.missingColumns.has(c))];
    if (absent.length) skipped.push({ id, name, reason: `${absent.join(', ')} not in the database (see the declaration check)` });
    return absent.length > 0;
  };

  for (const l of app.ledgers) {
    const id = `ledger:${l.table}.${l.balance}`;
    const name = `Financial calculations validate: every ${l.table}.${l.balance} equals the sum of its ${l.entries}.${l.amount}`;
    if (missing(id, name, [l.table, l.entries], [`${l.table}.${l.balance}`, `${l.entries}.${l.amount}`, `${l.entries}.${l.through}`])) continue;
    const k = quoteIdentifier(key(l.table)!);
    const through = quoteIdentifier(l.through);
    const amount = quoteIdentifier(l.amount);
    const offending = `FROM ${table(l.table)} b LEFT JOIN e ON e.owner = b.${k}
            WHERE b.${quoteIdentifier(l.balance)} IS DISTINCT FROM coalesce(e.total, 0)`;
    checks.push({
      id,
      name,
      // Materialized: under the LIMIT the planner would merge-join the ledger in key order, reading it through its index row by row.
      sql: `WITH e AS MATERIALIZED (SELECT ${through} AS owner, sum(${amount}) AS total FROM ${table(l.entries)} GROUP BY 1)
            SELECT b.${k}::text AS ${through}, b.${quoteIdentifier(l.balance)}::text AS balance, coalesce(e.total, 0)::text AS ledger_sum
            ${offending}
            ORDER BY b.${k} LIMIT ${offendingRowLimit}`,
      expectation: { kind: 'zeroRows' },
      rowLimit: offendingRowLimit,
      timeoutMs,
      screen: { kind: 'ledger', table: table(l.entries)!, through: l.through, amount: l.amount, balances: table(l.table)!, key: key(l.table)!, balance: l.balance },
    });
  }
  for (const r of app.ownership) {
    const id = `ownership:${r.table}.${r.column}`;
    const name = `Ownership: every ${r.table}.${r.column} equals ${r.parent}.${r.parentColumn} of the row its ${r.through} points at`;
    if (!missing(id, name, [r.table, r.parent], relationColumns(r))) checks.push(sameAsParentCheck(id, name, r, table(r.table)!, table(r.parent)!, key(r.table), key(r.parent)!, timeoutMs));
  }
  for (const r of app.currency) {
    const id = `currency:${r.table}.${r.column}`;
    const name = `Currency: every ${r.table}.${r.column} equals ${r.parent}.${r.parentColumn} of the row its ${r.through} points at`;
    if (!missing(id, name, [r.table, r.parent], relationColumns(r))) checks.push(sameAsParentCheck(id, name, r, table(r.table)!, table(r.parent)!, key(r.table), key(r.parent)!, timeoutMs));
  }
  for (const b of app.businessKeys) {
    const id = `business-key:${b.table}(${b.columns.join(',')})`;
    const name = `No duplicate business keys: ${b.table}(${b.columns.join(', ')}) identifies one row`;
    if (missing(id, name, [b.table], b.columns.map((c) => `${b.table}.${c}`))) continue;
    const cols = b.columns.map(quoteIdentifier);
    const k = key(b.table);
    checks.push({
      id,
      name,
      // Keys are collected only for the duplicates: an ordered array_agg per group would sort once for every row's key.
      sql: `WITH d AS MATERIALIZED (SELECT ${cols.join(', ')}, count(*) AS dr_rows FROM ${table(b.table)} WHERE ${cols.map((c) => `${c} IS NOT NULL`).join(' AND ')}
                                  GROUP BY ${cols.join(', ')} HAVING count(*) > 1 ORDER BY count(*) DESC LIMIT ${offendingRowLimit})
            SELECT ${cols.map((c, i) => `d.${c}::text AS ${quoteIdentifier(b.columns[i]!)}`).join(', ')}, d.dr_rows::int AS rows${k ? `, (SELECT (array_agg(x.${quoteIdentifier(k)} ORDER BY x.${quoteIdentifier(k)}))[1:5] FROM ${table(b.table)} x WHERE ${cols.map((c) => `x.${c} = d.${c}`).join(' AND ')})::text AS ${quoteIdentifier(`${k}s`)}` : ''}
            FROM d ORDER BY d.dr_rows DESC`,
      expectation: { kind: 'zeroRows' },
      rowLimit: offendingRowLimit,
      timeoutMs,
      // The server enforces a valid unique index on every write: grouping every row again would find nothing.
      uniqueProof: { table: table(b.table)!, columns: b.columns },
    });
  }

  const at = options.incidentTime ? `the incident time ${options.incidentTime}` : 'now (no incident time given)';
  const bound = options.notDatedAfter === 'now' ? undefined : options.incidentTime;
  const notAfter = bound ? `the incident time ${bound}` : 'now';
  for (const [name, t] of Object.entries(app.tables)) {
    if (!t.createdAt || !table(name) || resolved.missingColumns.has(`${name}.${t.createdAt}`) || resolved.missingColumns.has(`${name}.${t.key}`)) continue;
    const c = quoteIdentifier(t.createdAt);
    checks.push({
      id: `future-dated:${name}.${t.createdAt}`,
      name: `Time bounds: no ${name} row dated after ${notAfter} plus the clock skew (${options.clockSkewSeconds} s)`,
      sql: `SELECT ${quoteIdentifier(t.key)}::text AS ${quoteIdentifier(t.key)}, ${c} AS ${c}
            FROM ${table(name)} WHERE ${c} > coalesce($1::timestamptz, now()) + $2::float8 * interval '1 second'
            ORDER BY ${c} DESC LIMIT ${offendingRowLimit}`,
      params: [bound ?? null, options.clockSkewSeconds],
      expectation: { kind: 'zeroRows' },
      rowLimit: offendingRowLimit,
      timeoutMs,
    });
    if (!t.recent || !options.recency) continue;
    checks.push({
      id: `recent-data:${name}.${t.createdAt}`,
      name: `Recent data integrity: newest ${name}.${t.createdAt} at most ${options.rpoSeconds} s (RPO) before ${at}`,
      // Seconds from the newest row (not dated in the future: those are the check above) to the incident; NULL (a failure) for none.
      // (With writes kept after the incident, rows up to now count, and one newer than the incident is no fault.)
      sql: `SELECT round(extract(epoch FROM (coalesce($1::timestamptz, now()) - max(${c}))), 3) AS seconds_before_incident
            FROM ${table(name)} WHERE ${c} <= coalesce($3::timestamptz, now()) + $2::float8 * interval '1 second'`,
      params: [options.incidentTime ?? null, options.clockSkewSeconds, bound ?? null],
      expectation: { kind: 'withinRange', ...(bound ? { min: String(-options.clockSkewSeconds) } : {}), max: String(options.rpoSeconds) },
      timeoutMs,
    });
  }
  return { checks, skipped };
}

const relationColumns = (r: SameAsParent) => [`${r.table}.${r.column}`, `${r.table}.${r.through}`, `${r.parent}.${r.parentColumn}`];

/** A child whose column is not its parent's (through the child's reference to the parent's key). */
function sameAsParentCheck(id: string, name: string, r: SameAsParent, child: string, parent: string, childKey: string | undefined, parentKey: string, timeoutMs: number): CheckDefinition {
  const label = childKey ?? r.through;
  const differs = `JOIN ${parent} p ON p.${quoteIdentifier(parentKey)} = c.${quoteIdentifier(r.through)}
          WHERE c.${quoteIdentifier(r.column)} IS DISTINCT FROM p.${quoteIdentifier(r.parentColumn)}`;
  return {
    id,
    name,
    sql: `SELECT c.${quoteIdentifier(label)}::text AS ${quoteIdentifier(label)}, c.${quoteIdentifier(r.through)}::text AS ${quoteIdentifier(r.through)},
                 c.${quoteIdentifier(r.column)}::text AS ${quoteIdentifier(r.column)}, p.${quoteIdentifier(r.parentColumn)}::text AS ${quoteIdentifier(`parent_${r.parentColumn}`)}
          FROM ${child} c ${differs}
          ORDER BY 1 LIMIT ${offendingRowLimit}`,
    expectation: { kind: 'zeroRows' },
    rowLimit: offendingRowLimit,
    timeoutMs,
    screen: { kind: 'same-as-parent', table: child, through: r.through, column: r.column, parent, parentKey, parentColumn: r.parentColumn },
  };
}

function arrow(fk: ForeignKey): string {
  return `${fk.childTable}.${fk.childColumns.join(',')} → ${fk.parentTable}.${fk.parentColumns.join(',')}`;
}

/** Rows whose foreign key points at nothing (MATCH SIMPLE: a row with a NULL in the key is not checked). */
function orphanCheck(fk: ForeignKey, timeoutMs: number): CheckDefinition {
  const named = (fk.childKeyColumns.length ? fk.childKeyColumns : fk.childColumns).concat(fk.childColumns.filter((c) => !fk.childKeyColumns.includes(c)));
  const orphaned = `${fk.childColumns.map((col) => `c.${quoteIdentifier(col)} IS NOT NULL`).join(' AND ')}
            AND NOT EXISTS (SELECT 1 FROM ${fk.parentTable} p WHERE ${fk.childColumns.map((col, i) => `p.${quoteIdentifier(fk.parentColumns[i]!)} = c.${quoteIdentifier(col)}`).join(' AND ')})`;
  return {
    id: `orphans:${fk.childTable}.${fk.name}`,
    name: `No orphaned records: ${arrow(fk)}`,
    sql: `SELECT ${named.map((c) => `c.${quoteIdentifier(c)}::text AS ${quoteIdentifier(c)}`).join(', ')}
          FROM ${fk.childTable} c
          WHERE ${orphaned}
          LIMIT ${offendingRowLimit}`,
    expectation: { kind: 'zeroRows' },
    rowLimit: offendingRowLimit,
    timeoutMs,
    screen: { kind: 'orphans', table: fk.childTable, columns: fk.childColumns, parent: fk.parentTable, parentColumns: fk.parentColumns },
  };
}

/** A constraint added NOT VALID, or with its RI triggers disabled, no longer guarantees anything. Read live from the catalog. */
function integrityCheck(fk: ForeignKey, timeoutMs: number): CheckDefinition {
  return {
    id: `foreign-key-enforced:${fk.childTable}.${fk.name}`,
    name: `Referential integrity: ${fk.name} (${arrow(fk)}) validated and enforced`,
    sql: `SELECT c.conname::text AS constraint_name, c.convalidated AS validated,
                 (SELECT count(*) FROM pg_trigger t WHERE t.tgconstraint = c.oid AND t.tgenabled = 'D')::int AS disabled_triggers
          FROM pg_constraint c
          WHERE c.contype = 'f' AND c.conname = $1 AND c.conrelid = $2::regclass
            AND (NOT c.convalidated OR EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgconstraint = c.oid AND t.tgenabled = 'D'))`,
    params: [fk.name, fk.childTable],
    expectation: { kind: 'zeroRows' },
    timeoutMs,
  };
}
