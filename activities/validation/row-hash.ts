import { randomBytes } from 'node:crypto';
import type { Queryable } from './schema-catalog';

// How a history row is hashed. md5 of the row's text (every baseline of format 2) spends most of its
// time printing each value as text; the types' own 64-bit hash functions (what hash joins and hash
// partitioning use) read the values as they are stored, several times faster. Each column gets its own
// seed, so values swapped between columns change the hash; the seeds come from a random number kept
// only in the baseline, so whoever can write to the database cannot aim a change at a known hash.
// A baseline records the algorithm it used and the comparison uses the same one.

/** How one column's value is hashed: the function is chosen by its type when the baseline is taken. */
export type ColumnHashKind = 'int' | 'numeric' | 'text' | 'bpchar' | 'bool' | 'timestamp' | 'uuid' | 'jsonb';

export type RowHash =
  | { algorithm: 'md5' }
  /** XOR of each column's seeded extended hash (hash_numeric_extended also seeded by the value's scale, so 1.0 ≠ 1.00). */
  | {
      algorithm: 'column-hash-extended';
      seed: string;
      kinds: Record<string, ColumnHashKind>;
      /** The hash of fixed values of every kind where the baseline was taken: the types' hashes depend on the server's byte order. */
      probe: string;
    };

/** Types whose extended hash tells every two distinct values apart as their text would (floats, intervals and domains do not: -0 = 0, 1 day = 24 h). */
const kindOfType: Record<string, ColumnHashKind> = {
  int2: 'int',
  int4: 'int',
  int8: 'int',
  numeric: 'numeric',
  text: 'text',
  varchar: 'text',
  bpchar: 'bpchar',
  bool: 'bool',
  timestamptz: 'timestamp',
  timestamp: 'timestamp',
  date: 'timestamp',
  uuid: 'uuid',
  jsonb: 'jsonb',
};

/**
 * The cheaper row hash for `columns` of `table` when every column's type has an exact extended hash
 * (and text compares byte for byte: a nondeterministic collation hashes 'A' as 'a'); md5 otherwise.
 */
export async function chooseRowHash(db: Queryable, table: string, columns: readonly string[]): Promise<RowHash> {
  const result = await db.query<{ name: string; type: string; builtin: boolean; deterministic: boolean }>(`
    SELECT a.attname::text AS name, t.typname::text AS type, t.typnamespace = 'pg_catalog'::regnamespace AND t.typtype = 'b' AS builtin,
           coalesce(co.collisdeterministic, true) AS deterministic
    FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_collation co ON co.oid = a.attcollation
    WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`, [table]);
  const byName = new Map(result.rows.map((r) => [r.name, r]));
  const kinds: Record<string, ColumnHashKind> = {};
  for (const column of columns) {
    const c = byName.get(column);
    const kind = c?.builtin && c.deterministic ? kindOfType[c.type] : undefined;
    if (!kind) return { algorithm: 'md5' };
    kinds[column] = kind;
  }
  // Below 2^62, so seed + column number + a numeric's scale never leaves bigint.
  const seed = String(randomBytes(8).readBigUInt64BE() >> 2n);
  return { algorithm: 'column-hash-extended', seed, kinds, probe: await readProbe(db, seed) };
}

/** A fixed value of each kind, as SQL. */
const probeValues: Record<ColumnHashKind, string> = {
  int: '1234567',
  numeric: '12.34',
  text: "'dr-runbooks'",
  bpchar: "'USD'::bpchar",
  bool: 'true',
  timestamp: "timestamp '2025-01-01 00:00:00'",
  uuid: "'00000000-0000-4000-8000-000000000001'::uuid",
  jsonb: `'{"a": [1, "b"]}'::jsonb`,
};

async function readProbe(db: Queryable, seed: string): Promise<string> {
  const parts = (Object.entries(probeValues) as Array<[ColumnHashKind, string]>).map(([kind, value]) => columnHash(kind, value, `${seed}::int8`));
  return (await db.query<{ probe: string }>(`SELECT (${parts.join(' # ')})::text AS probe`)).rows[0]!.probe;
}

/**
 * Throws unless this server hashes as the one the baseline was taken on (its probe): on another byte
 * order every row would differ, and the gate says why instead of naming every range.
 */
export async function assertSameRowHash(db: Queryable, hash: RowHash | undefined): Promise<void> {
  if (hash?.algorithm !== 'column-hash-extended') return;
  const probe = await readProbe(db, hash.seed);
  if (probe !== hash.probe) throw new Error(`this server hashes values unlike the one the baseline was taken on (another platform or byte order: probe ${probe}, baseline ${hash.probe}); take a new baseline on this platform`);
}

/** Digits after the point every value of a numeric(p,s) column has (its typmod rounds each value it stores). */
const fixedScale = (type: string | undefined) => /^numeric\(\d+,(\d+)\)$/.exec(type ?? '')?.[1];

/**
 * `type` (the column's type now, as format_type prints it) only picks a cheaper expression of the same
 * hash: a numeric(p,s) column's values all have scale s, so the seed plus s is the seed plus each value's
 * scale; a timestamptz at offset zero is the same instant as the cast to timestamp gives in the
 * measurement's UTC session, without the cast's calendar arithmetic. Baselines of either form compare.
 */
function columnHash(kind: ColumnHashKind, value: string, seed: string, type?: string): string {
  switch (kind) {
    case 'int':
      return `hashint8extended(${value}::int8, ${seed})`;
    case 'numeric': {
      const scale = fixedScale(type);
      return scale === undefined ? `hash_numeric_extended(${value}, ${seed} + scale(${value}))` : `hash_numeric_extended(${value}, ${seed} + ${scale})`;
    }
    case 'text':
      return `hashtextextended(${value}::text, ${seed})`;
    case 'bpchar':
      return `hashbpcharextended(${value}, ${seed})`;
    case 'bool':
      return `hashint4extended(${value}::int4, ${seed})`;
    case 'timestamp':
      // timestamptz → timestamp is exact here: the measurement's session runs in UTC.
      if (type === 'timestamp with time zone') return `timestamp_hash_extended(${value} AT TIME ZONE INTERVAL '0', ${seed})`;
      return `timestamp_hash_extended(${value}::timestamp, ${seed})`;
    case 'uuid':
      return `uuid_hash_extended(${value}, ${seed})`;
    case 'jsonb':
      return `jsonb_hash_extended(${value}, ${seed})`;
  }
}

/**
 * SQL for one row's hash (`row`, over `column(name)` for each column) and for the two 64-bit sums a key
 * range keeps of its rows' hashes (`sums(of)`, `of` naming the row hash): order-independent. md5 fills
 * both halves; the extended hash is one 64-bit value, and its second sum is 0.
 */
export function rowHashSql(hash: RowHash | undefined, columns: readonly string[], column: (name: string) => string, types: ReadonlyMap<string, string> = new Map()): { row: string; sums: (of: string) => [string, string] } {
  if (!hash || hash.algorithm === 'md5') {
    const half = (of: string, from: 1 | 17) => `coalesce(sum(('x' || substr(${of}, ${from}, 16))::bit(64)::bigint), 0)`;
    return { row: `md5(ROW(${columns.map(column).join(', ')})::text)`, sums: (of) => [half(of, 1), half(of, 17)] };
  }
  const parts = columns.map((c, i) => {
    const kind = hash.kinds[c];
    if (!kind) throw new Error(`the baseline's row hash has no type for column ${c}`);
    // A NULL hashes as 0: still unlike any value, whose hash is 0 only by a 1-in-2^64 chance.
    return `coalesce(${columnHash(kind, column(c), `${BigInt(hash.seed) + BigInt(i)}::int8`, types.get(c))}, 0)`;
  });
  return { row: `(${parts.join(' # ')})`, sums: (of) => [`coalesce(sum(${of}), 0)`, '0'] };
}

export const describeRowHash = (hash: RowHash | undefined) => (hash?.algorithm === 'column-hash-extended' ? 'seeded extended hash of each column' : 'md5 of the row text');
