import type { Queryable } from './schema-catalog';

// Where a baseline sits in the WAL, and what the WAL says changed since. A backup restored to its
// consistent point and a standby of the same primary share the system identifier, the relations' files
// and their block layout: a block no WAL record touched after the baseline's LSN holds what it held
// when the baseline was measured. That is what lets a promoted standby be checked block range by block
// range instead of table by table (pg_walinspect, shipped with PostgreSQL 15, reads the WAL).

/** The point of the WAL a baseline describes, read on the restored copy it was measured on. */
export interface WalAnchor {
  /** pg_control_system(): the same on every copy and standby of one primary, different for any other. */
  systemIdentifier: string;
  /** The timeline the copy replayed (its parent, once it was promoted). */
  timeline: number;
  /** The end of the last WAL record the copy replayed: the data measured is as of here. */
  lsn: string;
  /**
   * The copy's next transaction id (32-bit): a transaction with an older id that commits after `lsn`
   * was open at the baseline's point and may have written before it, where the WAL scan cannot see.
   */
  nextXid: string;
}

/** A relation's files, as WAL block references name them (tablespace/database/filenode). */
export interface RelationFile {
  tablespace: number;
  database: number;
  filenode: number;
}

/** Blocks that record something other than hint bits or vacuum's bookkeeping: data may have changed there. */
const noDataChange = `(r.resource_manager = 'XLOG' AND r.record_type = 'FPI_FOR_HINT')
  OR (r.resource_manager = 'Heap2' AND r.record_type IN ('PRUNE', 'VACUUM', 'FREEZE_PAGE', 'VISIBLE'))`;

/** The newest timeline history on a server: each switch as (parent timeline, switch LSN), oldest first, and the current timeline. */
async function timelineHistory(db: Queryable): Promise<{ current: number; switches: Array<{ parent: number; at: string }> }> {
  const files = await db.query<{ name: string }>(`SELECT name FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{8}\\.history$' ORDER BY name DESC LIMIT 1`);
  const newest = files.rows[0]?.name;
  if (!newest) {
    const tli = (await db.query<{ tli: number }>('SELECT timeline_id AS tli FROM pg_control_checkpoint()')).rows[0]!.tli;
    return { current: tli, switches: [] };
  }
  const text = (await db.query<{ body: string }>(`SELECT pg_read_file('pg_wal/' || $1) AS body`, [newest])).rows[0]!.body;
  const switches = text.split('\n').map((l) => /^\s*(\d+)\s+([0-9A-F]+\/[0-9A-F]+)/i.exec(l)).filter((m): m is RegExpExecArray => m !== null).map((m) => ({ parent: Number(m[1]), at: m[2]! }));
  return { current: parseInt(newest.slice(0, 8), 16), switches };
}

/**
 * The anchor of a copy restored to its consistent point and promoted (what backupWithBaseline measures),
 * or why it has none: a database that never ran recovery has no point in the WAL its figures belong to.
 */
export async function readWalAnchor(db: Queryable): Promise<WalAnchor | { none: string }> {
  const row = (await db.query<{ lsn: string | null; recovering: boolean; system: string; next: string }>(`
    SELECT pg_last_wal_replay_lsn()::text AS lsn, pg_is_in_recovery() AS recovering,
           (SELECT system_identifier::text FROM pg_control_system()) AS system,
           (pg_snapshot_xmax(pg_current_snapshot())::text::numeric % 4294967296)::text AS next`)).rows[0]!;
  if (row.recovering) return { none: 'the copy is still in recovery' };
  if (!row.lsn) return { none: 'the copy never replayed WAL (it is not a restored backup)' };
  const history = await timelineHistory(db);
  const last = history.switches.at(-1);
  if (!last) return { none: 'the copy was not promoted from a recovery (no timeline history)' };
  return { systemIdentifier: row.system, timeline: last.parent, lsn: row.lsn, nextXid: row.next };
}

export function lsnToBigInt(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

/** Why `db` cannot be checked against the anchor (another cluster, another timeline), or undefined when it can. */
export async function anchorMismatch(db: Queryable, anchor: WalAnchor): Promise<string | undefined> {
  const system = (await db.query<{ system: string }>('SELECT system_identifier::text AS system FROM pg_control_system()')).rows[0]!.system;
  if (system !== anchor.systemIdentifier) return `its system identifier ${system} is not the baseline's ${anchor.systemIdentifier} (another cluster)`;
  const history = await timelineHistory(db);
  const at = lsnToBigInt(anchor.lsn);
  const covering = history.switches.find((s) => lsnToBigInt(s.at) > at)?.parent ?? history.current;
  if (covering !== anchor.timeline) return `the baseline's LSN ${anchor.lsn} is on timeline ${anchor.timeline}, but this server's history reached it on timeline ${covering}`;
  return undefined;
}

export interface WalChanges {
  /** Through here (the server's flushed WAL when the scan began). */
  until: string;
  records: number;
  /** Changed blocks per relation filenode. */
  blocks: Map<number, Set<number>>;
  /** Transactions open at the baseline's point that committed or aborted after it. */
  openAtBaseline: number;
}

/**
 * Every block of `relations` a WAL record touched from the anchor's LSN to `until`, and how many
 * transactions that were open at the anchor ended after it. Throws the server's words when the WAL since
 * the anchor is gone (removed after a checkpoint) or pg_walinspect cannot read it.
 */
export async function walChangesSince(db: Queryable, anchor: WalAnchor, relations: RelationFile[], until: string): Promise<WalChanges> {
  const filenodes = relations.map((r) => r.filenode);
  const result = await db.query<{ filenode: number | null; blocks: string[] | null; records: string; open: string }>(`
    WITH r AS (SELECT * FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)),
    refs AS (
      SELECT m[1]::oid AS spc, m[2]::oid AS db, m[3]::oid AS filenode, m[4]::bigint AS block
      FROM r, regexp_matches(r.block_ref, 'rel (\\d+)/(\\d+)/(\\d+) fork main blk (\\d+)', 'g') AS m
      WHERE r.block_ref IS NOT NULL AND NOT (${noDataChange})
    )
    SELECT filenode::int AS filenode, array_agg(DISTINCT block::text) AS blocks, NULL AS records, NULL AS open
    FROM refs WHERE filenode = ANY($3::oid[]) AND (spc, db) IN (SELECT * FROM unnest($4::oid[], $5::oid[])) GROUP BY filenode
    UNION ALL
    SELECT NULL, NULL, (SELECT count(*) FROM r)::text,
           (SELECT count(*) FROM r WHERE r.resource_manager = 'Transaction' AND r.record_type ~ '^(COMMIT|ABORT)' AND age(r.xid) > age($6::text::xid))::text`,
  [anchor.lsn, until, filenodes, relations.map((r) => r.tablespace), relations.map((r) => r.database), anchor.nextXid]);
  const blocks = new Map<number, Set<number>>();
  let records = 0;
  let open = 0;
  for (const row of result.rows) {
    if (row.filenode === null) {
      records = Number(row.records);
      open = Number(row.open);
    } else {
      blocks.set(row.filenode, new Set((row.blocks ?? []).map(Number)));
    }
  }
  return { until, records, blocks, openAtBaseline: open };
}
