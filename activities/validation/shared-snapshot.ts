import type { Pool, PoolClient } from 'pg';

// The gate's checks run on several connections at once, beside the measurement on another. Each in its
// own transaction, a write committed while they run would be seen by some and not by others: a ledger
// check could pass on the balances before a payment and the reconciliation count the payment. One
// REPEATABLE READ READ ONLY transaction exports its snapshot (pg_export_snapshot) and the others import
// it (SET TRANSACTION SNAPSHOT), so every check and the measurement describe the same instant. The
// exporting transaction must stay open while any importer starts; it is also the measurement's.

/** A snapshot's id as the server prints it ("00000003-0000001B-1"): checked before it is spliced into SQL. */
const snapshotId = /^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$/;

export interface SharedSnapshot {
  /** The exporting connection, inside its REPEATABLE READ READ ONLY transaction. */
  client: PoolClient;
  /** The id other transactions import; undefined where the server would not export one (they then read on their own). */
  id: string | undefined;
}

/** Opens the exporting transaction. */
async function exportSnapshot(pool: Pool): Promise<SharedSnapshot> {
  const client = await pool.connect();
  try {
    const begin = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';
    await client.query(begin);
    // Not from a savepoint: the server exports only from a top-level transaction.
    const id = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id').then(
      (r) => r.rows[0]!.id,
      async () => {
        // A server that cannot export (a pooler in transaction mode, say): the checks read in their own
        // transactions, as before the gate shared one.
        await client.query('ROLLBACK');
        await client.query(begin);
        return undefined;
      },
    );
    return { client, id };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
    throw error;
  }
}

/** Runs `work` inside one exported snapshot, then ends the exporting transaction (read-only: nothing to keep). */
export async function withSharedSnapshot<T>(pool: Pool, work: (snapshot: SharedSnapshot) => Promise<T>): Promise<T> {
  const snapshot = await exportSnapshot(pool);
  try {
    return await work(snapshot);
  } finally {
    await snapshot.client.query('ROLLBACK').catch(() => undefined);
    snapshot.client.release();
  }
}

/** Begins a read-only transaction on `client`, in the shared snapshot when there is one. */
export async function beginReadOnly(client: PoolClient, snapshot: string | undefined): Promise<void> {
  if (snapshot === undefined) {
    await client.query('BEGIN READ ONLY');
    return;
  }
  if (!snapshotId.test(snapshot)) throw new Error(`not a snapshot id: ${JSON.stringify(snapshot)}`);
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  await client.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
}
