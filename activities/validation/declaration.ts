import { z } from 'zod';
import { duration, durationToMs } from '../../contracts/durations';

// What an application tells the validation gate about its schema, in the worker config (`application:`):
// which tables are append-only history, which columns hold money, who owns what, which keys are business
// keys. The built-in checks read this instead of knowing any one schema, so a second application's
// schema gets the same gate by declaring itself.

const column = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, 'must be a column name');
const tableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/, 'must be a table name, optionally schema-qualified (schema.table)');
const fraction = z.number({ error: 'must be a fraction, e.g. 0.05 for 5 %' }).min(0, 'must not be negative').max(10, 'must be at most 10 (1000 %)');

const tolerance = z.strictObject({
  /** Growth in rows since the baseline that is ordinary, as a fraction of the baseline's rows (0.05 = 5 %). A mutable table may also shrink this much. */
  rows: fraction.optional(),
  /** Change of a money column's sum since the baseline that is ordinary, as a fraction of the baseline's sum of absolute values. */
  money: fraction.optional(),
});

const tableDeclaration = z.strictObject({
  /** The primary key column; an integer for append-only tables (their history is narrowed to key ranges). */
  key: column,
  /** Rows are never updated or deleted (a ledger, an audit log): rows created up to the baseline must be exactly the baseline's. */
  appendOnly: z.boolean().default(false),
  /** When a row was created: an append-only table's history window, and the time bounds (no row after the incident). */
  createdAt: column.optional(),
  /** Written continuously: its newest row must be no older than the RPO before the incident. */
  recent: z.boolean().default(false),
  /** Columns that hold money: summed to the cent against the baseline. Undeclared tables have their numeric columns summed. */
  money: z.array(column).default([]),
  /** Report labels: `rows` and money columns by name, e.g. { rows: "Total Transactions", amount: "Transaction Sum" }. */
  labels: z.record(z.string(), z.string().trim().min(1).max(80)).default({}),
  tolerance: tolerance.optional(),
});

/** A child row's column must equal its parent's: a transaction's user owns its account; its currency is the account's. */
const sameAsParent = z.strictObject({
  table: tableName,
  column,
  /** The child's column that references the parent's key. */
  through: column,
  parent: tableName,
  parentColumn: column,
});

/** A balance equals the sum of its entries: accounts.balance = sum(transactions.amount) by account. */
const ledger = z.strictObject({
  table: tableName,
  balance: column,
  entries: tableName,
  amount: column,
  /** The entries' column that references the balance table's key. */
  through: column,
});

/** Columns that identify one business event (an idempotency key, an external reference): never two rows with the same. */
const businessKey = z.strictObject({
  table: tableName,
  columns: z.array(column).min(1, 'must name at least one column'),
});

export const applicationDeclarationSchema = z
  .strictObject({
    name: z.string().trim().min(1).optional(),
    tables: z.record(tableName, tableDeclaration),
    ledgers: z.array(ledger).default([]),
    ownership: z.array(sameAsParent).default([]),
    currency: z.array(sameAsParent).default([]),
    businessKeys: z.array(businessKey).default([]),
    /** Default tolerance of every table: growth of 5 % in rows and money since the baseline is ordinary. */
    tolerance: tolerance.default({}),
    /** How far the application's clocks may be from the database's: rows may be dated this far after the incident. */
    clockSkew: duration.default('30 seconds'),
    /** The longest a write transaction runs: rows created this long before a backup's point may still commit after it. */
    longestTransaction: duration.default('1 minute'),
  })
  .superRefine((app, ctx) => {
    const declared = new Set(Object.keys(app.tables));
    for (const [name, t] of Object.entries(app.tables)) {
      if (t.appendOnly && !t.createdAt) ctx.addIssue({ code: 'custom', path: ['tables', name, 'createdAt'], message: 'is required for an append-only table (its history is the rows created up to the baseline)' });
      if (t.recent && !t.createdAt) ctx.addIssue({ code: 'custom', path: ['tables', name, 'createdAt'], message: 'is required for a table declared recent' });
      for (const label of Object.keys(t.labels)) {
        if (label !== 'rows' && !t.money.includes(label)) ctx.addIssue({ code: 'custom', path: ['tables', name, 'labels', label], message: `labels "rows" or a money column (${t.money.join(', ') || 'none declared'})` });
      }
    }
    const mustBeDeclared = (table: string, path: (string | number)[]) => {
      if (!declared.has(table)) ctx.addIssue({ code: 'custom', path, message: `"${table}" is not declared under tables (its key is needed)` });
    };
    app.ownership.forEach((r, i) => mustBeDeclared(r.parent, ['ownership', i, 'parent']));
    app.currency.forEach((r, i) => mustBeDeclared(r.parent, ['currency', i, 'parent']));
    app.ledgers.forEach((l, i) => mustBeDeclared(l.table, ['ledgers', i, 'table']));
  });

export type ApplicationDeclaration = z.output<typeof applicationDeclarationSchema>;
export type ApplicationDeclarationInput = z.input<typeof applicationDeclarationSchema>;
export type TableDeclaration = ApplicationDeclaration['tables'][string];
export type SameAsParent = ApplicationDeclaration['ownership'][number];
export type LedgerDeclaration = ApplicationDeclaration['ledgers'][number];

export const defaultTolerance = { rows: 0.05, money: 0.05 } as const;

/** A table's tolerance: its own, else the application's, else 5 % of rows and money. */
export function toleranceOf(app: ApplicationDeclaration | undefined, table: string): { rows: number; money: number } {
  const own = app?.tables[table]?.tolerance;
  return { rows: own?.rows ?? app?.tolerance.rows ?? defaultTolerance.rows, money: own?.money ?? app?.tolerance.money ?? defaultTolerance.money };
}

export function clockSkewSeconds(app: ApplicationDeclaration | undefined): number {
  return durationToMs(app?.clockSkew ?? '30 seconds') / 1000;
}

export function longestTransactionSeconds(app: ApplicationDeclaration | undefined): number {
  return durationToMs(app?.longestTransaction ?? '1 minute') / 1000;
}

/** Parses a declaration (the worker config does it on load; tests and tools call this). */
export function parseApplicationDeclaration(input: ApplicationDeclarationInput): ApplicationDeclaration {
  const parsed = applicationDeclarationSchema.safeParse(input);
  if (!parsed.success) throw new Error(`application: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
