import type { PoolClient } from 'pg';

/**
 * Reads a query's rows through a server-side cursor, one batch ahead, so memory holds two batches
 * at most and two readers on two servers fetch at the same time. Needs an open transaction.
 */
export class ServerCursor<T> {
  private static opened = 0;
  private readonly name = `dr_cursor_${++ServerCursor.opened}`;
  private rows: T[] = [];
  private index = 0;
  private done = false;
  private nextBatch: Promise<T[]> | undefined;
  /** Rows consumed so far. */
  count = 0;

  /** `rowMode` 'array': each row as an array of its columns (no object per row), T a tuple. */
  constructor(private readonly client: PoolClient, private readonly sql: string, private readonly batchRows = 5000, private readonly rowMode?: 'array') {}

  async open(): Promise<this> {
    await this.client.query(`DECLARE ${this.name} NO SCROLL CURSOR FOR ${this.sql}`);
    this.nextBatch = this.fetch();
    return this;
  }

  private fetch(): Promise<T[]> {
    const text = `FETCH ${this.batchRows} FROM ${this.name}`;
    return (this.rowMode ? this.client.query({ text, rowMode: 'array' }) : this.client.query(text)).then((r) => r.rows as T[]);
  }

  /** True when the buffer is used up and the server may have more: await `fill()` before `current()`. */
  needsFill(): boolean {
    return this.index >= this.rows.length && !this.done;
  }

  async fill(): Promise<void> {
    if (!this.needsFill() || !this.nextBatch) return;
    this.rows = await this.nextBatch;
    this.index = 0;
    if (this.rows.length < this.batchRows) {
      this.done = true;
      this.nextBatch = undefined;
    } else {
      this.nextBatch = this.fetch();
    }
  }

  /** The row at the read position; undefined at the end (once filled). */
  current(): T | undefined {
    return this.rows[this.index];
  }

  advance(): void {
    this.index++;
    this.count++;
  }

  async close(): Promise<void> {
    await this.nextBatch?.catch(() => undefined);
    await this.client.query(`CLOSE ${this.name}`).catch(() => undefined);
  }
}

/** Opens cursors together, runs `work`, and always closes them. */
export async function withCursors<T, R>(cursors: Array<ServerCursor<T>>, work: (cursors: Array<ServerCursor<T>>) => Promise<R>): Promise<R> {
  const opened = await Promise.allSettled(cursors.map((c) => c.open()));
  try {
    const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    return await work(cursors);
  } finally {
    await Promise.all(cursors.map((c, i) => (opened[i]!.status === 'fulfilled' ? c.close() : undefined)));
  }
}
