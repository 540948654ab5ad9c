import type { CheckDefinition } from './checks';
import type { ApplicationDeclaration } from './declaration';
import { quoteIdentifier, type ForeignKey } from './schema-catalog';

// The gate's row checks restricted to what can have changed since a trusted baseline: the rows written
// since (by TID), and the rows that depend on rows that vanished (by the vanished rows' key ranges at the
// baseline). Everything else was checked when the baseline was taken and is still the same rows, block
// for block. A check over small tables only is run whole: it costs less than being clever.

/** What changed in one table since the baseline, as the incremental gate found it. */
export interface TableChange {
  /** ctids of the rows written since the baseline (new rows and new versions of updated rows). */
  newTids: string[];
  /** Key ranges (at the baseline) of segments that lost rows; null bounds: the segment's keys are not known. */
  vanished: Array<{ minKey: string | null; maxKey: string | null }>;
  /** The segment key the ranges bound. */
  key?: string;
  /** Small enough that its checks run whole. */
  small: boolean;
}

export interface RestrictionContext {
  foreignKeys: ForeignKey[];
  app?: ApplicationDeclaration;
  /** Declared table name → the server's name. */
  resolved: Map<string, string>;
  changes: Map<string, TableChange>;
}

const offendingRowLimit = 1000;
const q = quoteIdentifier;

/** Builds a check's parameter list: each value gets the next $n. */
class Params {
  values: unknown[];
  constructor(initial: unknown[] = []) {
    this.values = [...initial];
  }
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * The ctids of `table` to look at: its rows written since, plus those whose `column` falls in the given
 * key ranges or key list. An ARRAY(...) is computed once, so the outer scan is a TID scan.
 */
function candidates(table: string, change: TableChange, params: Params, extra: { column: string; ranges?: TableChange['vanished']; keysOf?: { table: string; key: string; tids: string[] } }[] = []): string {
  const parts = [`SELECT ctid FROM ${table} WHERE ctid = ANY(${params.add(change.newTids)}::tid[])`];
  for (const e of extra) {
    if (e.ranges?.length) parts.push(`SELECT ctid FROM ${table} WHERE ${e.ranges.map((r) => `${q(e.column)} BETWEEN ${params.add(r.minKey)} AND ${params.add(r.maxKey)}`).join(' OR ')}`);
    if (e.keysOf?.tids.length) parts.push(`SELECT ctid FROM ${table} WHERE ${q(e.column)} = ANY(ARRAY(SELECT ${q(e.keysOf.key)} FROM ${e.keysOf.table} WHERE ctid = ANY(${params.add(e.keysOf.tids)}::tid[])))`);
  }
  return `ctid = ANY(ARRAY(${parts.join(' UNION ALL ')}))`;
}

/** Ranges usable on a child's column referencing `parent`'s segment key, or undefined when they are not (whole check then). */
function rangesOn(parent: TableChange, parentColumn: string): TableChange['vanished'] | undefined {
  if (!parent.vanished.length) return [];
  if (parent.key !== parentColumn || parent.vanished.some((r) => r.minKey === null || r.maxKey === null)) return undefined;
  return parent.vanished;
}

/**
 * Each full check replaced by its restriction where one is sound, else kept whole (with why, for the
 * report). Ids and names stay the full gate's, so reports and the gate's rules read the same.
 */
export function restrictChecks(full: CheckDefinition[], ctx: RestrictionContext): { checks: CheckDefinition[]; whole: string[] } {
  const whole: string[] = [];
  const change = (table: string | undefined) => (table ? ctx.changes.get(table) : undefined);
  const key = (declared: string) => ctx.app?.tables[declared]?.key;
  const checks = full.map((check): CheckDefinition => {
    const id = check.id ?? '';
    const restricted = restrictionOf(id, check);
    if (restricted === 'as-is') return check;
    if (!restricted) {
      whole.push(id);
      return check;
    }
    // The full check's screen groups the whole table: a restriction reads only what changed, so it runs
    // its own query instead of joining the table's shared scan.
    const { screen: _wholeTable, ...unscreened } = check;
    return { ...unscreened, ...restricted };
  });
  return { checks, whole };

  function restrictionOf(id: string, check: CheckDefinition): Pick<CheckDefinition, 'sql' | 'params'> | 'as-is' | undefined {
    if (id.startsWith('orphans:')) {
      const fk = ctx.foreignKeys.find((f) => id === `orphans:${f.childTable}.${f.name}`);
      const child = change(fk?.childTable);
      const parent = change(fk?.parentTable);
      if (!fk || !child || !parent) return undefined;
      if (child.small && parent.small) return 'as-is';
      const ranges = fk.childColumns.length === 1 ? rangesOn(parent, fk.parentColumns[0]!) : parent.vanished.length ? undefined : [];
      if (!ranges) return undefined;
      const params = new Params();
      const named = (fk.childKeyColumns.length ? fk.childKeyColumns : fk.childColumns).concat(fk.childColumns.filter((c) => !fk.childKeyColumns.includes(c)));
      const notNull = fk.childColumns.map((c) => `c.${q(c)} IS NOT NULL`).join(' AND ');
      const joins = fk.childColumns.map((c, i) => `p.${q(fk.parentColumns[i]!)} = c.${q(c)}`).join(' AND ');
      const where = candidates(fk.childTable, child, params, [{ column: fk.childColumns[0]!, ranges }]);
      return {
        sql: `SELECT ${named.map((c) => `c.${q(c)}::text AS ${q(c)}`).join(', ')} FROM ${fk.childTable} c
              WHERE c.${where} AND ${notNull} AND NOT EXISTS (SELECT 1 FROM ${fk.parentTable} p WHERE ${joins}) LIMIT ${offendingRowLimit}`,
        params: params.values,
      };
    }
    if (id.startsWith('ledger:')) {
      const l = ctx.app?.ledgers.find((x) => id === `ledger:${x.table}.${x.balance}`);
      if (!l) return undefined;
      const [table, entries] = [ctx.resolved.get(l.table), ctx.resolved.get(l.entries)];
      const [b, e] = [change(table), change(entries)];
      const k = key(l.table);
      if (!b || !e || !k) return undefined;
      if (b.small && e.small) return 'as-is';
      // An entry gone or rewritten since the baseline moved a balance we cannot name from here.
      if (e.vanished.length) return undefined;
      const params = new Params();
      const ids = `SELECT ${q(k)} AS id FROM ${table} WHERE ctid = ANY(${params.add(b.newTids)}::tid[]) UNION SELECT ${q(l.through)} FROM ${entries} WHERE ctid = ANY(${params.add(e.newTids)}::tid[])`;
      return {
        sql: `WITH ids AS (${ids})
              SELECT b.${q(k)}::text AS ${q(l.through)}, b.${q(l.balance)}::text AS balance, coalesce(e.total, 0)::text AS ledger_sum
              FROM ${table} b LEFT JOIN (SELECT ${q(l.through)} AS owner, sum(${q(l.amount)}) AS total FROM ${entries} WHERE ${q(l.through)} = ANY(ARRAY(SELECT id FROM ids)) GROUP BY 1) e ON e.owner = b.${q(k)}
              WHERE b.${q(k)} = ANY(ARRAY(SELECT id FROM ids)) AND b.${q(l.balance)} IS DISTINCT FROM coalesce(e.total, 0)
              ORDER BY b.${q(k)} LIMIT ${offendingRowLimit}`,
        params: params.values,
      };
    }
    if (id.startsWith('ownership:') || id.startsWith('currency:')) {
      const r = [...(ctx.app?.ownership ?? []), ...(ctx.app?.currency ?? [])].find((x) => id === `ownership:${x.table}.${x.column}` || id === `currency:${x.table}.${x.column}`);
      if (!r) return undefined;
      const [child, parent] = [ctx.resolved.get(r.table), ctx.resolved.get(r.parent)];
      const [c, p] = [change(child), change(parent)];
      const parentKey = key(r.parent);
      if (!c || !p || !parentKey) return undefined;
      if (c.small && p.small) return 'as-is';
      const params = new Params();
      const label = key(r.table) ?? r.through;
      // A parent rewritten since has a new version (a new row); one deleted leaves no pair to compare.
      const where = candidates(child!, c, params, [{ column: r.through, keysOf: { table: parent!, key: parentKey, tids: p.newTids } }]);
      return {
        sql: `SELECT c.${q(label)}::text AS ${q(label)}, c.${q(r.through)}::text AS ${q(r.through)}, c.${q(r.column)}::text AS ${q(r.column)}, p.${q(r.parentColumn)}::text AS ${q(`parent_${r.parentColumn}`)}
              FROM ${child} c JOIN ${parent} p ON p.${q(parentKey)} = c.${q(r.through)}
              WHERE c.${where} AND c.${q(r.column)} IS DISTINCT FROM p.${q(r.parentColumn)}
              ORDER BY 1 LIMIT ${offendingRowLimit}`,
        params: params.values,
      };
    }
    if (id.startsWith('business-key:')) {
      const bk = ctx.app?.businessKeys.find((x) => id === `business-key:${x.table}(${x.columns.join(',')})`);
      const table = bk ? ctx.resolved.get(bk.table) : undefined;
      const c = change(table);
      if (!bk || !c) return undefined;
      if (c.small) return 'as-is';
      const params = new Params();
      const cols = bk.columns.map(q);
      const k = key(bk.table);
      return {
        sql: `SELECT ${cols.map((col, i) => `${col}::text AS ${q(bk.columns[i]!)}`).join(', ')}, count(*)::int AS rows${k ? `, (array_agg(${q(k)} ORDER BY ${q(k)}))[1:5]::text AS ${q(`${k}s`)}` : ''}
              FROM ${table} WHERE (${cols.join(', ')}) IN (SELECT ${cols.join(', ')} FROM ${table} WHERE ctid = ANY(${params.add(c.newTids)}::tid[]) AND ${cols.map((col) => `${col} IS NOT NULL`).join(' AND ')})
              GROUP BY ${cols.join(', ')} HAVING count(*) > 1
              ORDER BY count(*) DESC LIMIT ${offendingRowLimit}`,
        params: params.values,
      };
    }
    if (id.startsWith('future-dated:')) {
      const declared = Object.keys(ctx.app?.tables ?? {}).find((n) => id === `future-dated:${n}.${ctx.app!.tables[n]!.createdAt}`);
      const table = declared ? ctx.resolved.get(declared) : undefined;
      const c = change(table);
      if (!declared || !c) return undefined;
      if (c.small) return 'as-is';
      // Rows the baseline held were dated no later than its backup, which ended before this incident.
      const params = new Params(check.params);
      const t = ctx.app!.tables[declared]!;
      return {
        sql: `SELECT ${q(t.key)}::text AS ${q(t.key)}, ${q(t.createdAt!)} AS ${q(t.createdAt!)}
              FROM ${table} WHERE ctid = ANY(${params.add(c.newTids)}::tid[]) AND ${q(t.createdAt!)} > coalesce($1::timestamptz, now()) + $2::float8 * interval '1 second'
              ORDER BY ${q(t.createdAt!)} DESC LIMIT ${offendingRowLimit}`,
        params: params.values,
      };
    }
    // The referential-integrity checks read the catalog, the declaration check the config, the recency
    // check the newest row (an index scan where there is an index): cheap whole.
    return 'as-is';
  }
}
