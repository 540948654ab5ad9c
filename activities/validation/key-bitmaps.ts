/**
 * Which keys of a key range each side holds, as a bitmap read in the same pass as its checksums.
 *
 * A scattered loss (every 100th key, every 10th) leaves a gap in nearly every sub-range, and finding
 * those gaps after the checksum pass costs a second scan of one side and a hash of every missing row
 * by key. Here the checksum pass also groups the side's keys into 64-key chunks and returns the masks
 * of the chunks that are not full: the checksums' hash aggregate carries one more small group per chunk,
 * a few per cent of the pass. Node then knows every one-sided key without asking again, reports them
 * from the two bitmaps in key order, and sends one bitmap to the other side, whose one-sided rows are
 * summed in one filtered scan that hashes only those rows.
 *
 * Memory is one bit per key of the range per side that lacks keys (1.25 MB for 10M keys), held in a
 * Buffer, not as JavaScript objects; a side that lacks no key holds none.
 */
export const chunkKeys = 64;
/** Chunks described by one row of the pass: their presence as four 64-bit words, their masks in one text. */
const chunksPerGroup = 256;

/**
 * The checksum pass of [lo, lo + width) by sub-ranges of `childWidth` keys (a multiple of chunkKeys,
 * so a chunk lies in one sub-range), with the masks of each chunk that lacks a key. An empty chunk has
 * no row, so each group of chunks says which of its chunks hold any key, and a group with none is
 * not returned at all (a group whose chunks are all full is one short row). Rows: [0, sub-range, count, hash sum] and [1, group, presence
 * words "w0:w1:w2:w3", masks "chunk:low:high,…" of its chunks that lack a key].
 */
export function bitmapPassSql(table: string, key: string, rowHash: string, lo: bigint, width: bigint, childWidth: bigint): string {
  if (childWidth % BigInt(chunkKeys) !== 0n) throw new Error(`the bitmap pass needs sub-ranges of whole chunks, not ${childWidth} keys`);
  const perBucket = childWidth / BigInt(chunkKeys);
  const offset = `(${key}::bigint - ${lo})`;
  const full = `least(${chunkKeys}, ${width} - dr_c * ${chunkKeys})`;
  const word = (w: number) => `coalesce(bit_or(1::bigint << (dr_c % 64)::int) FILTER (WHERE dr_c % ${chunksPerGroup} / 64 = ${w}), 0)`;
  return `WITH dr_chunks AS MATERIALIZED (
      SELECT ${offset} / ${chunkKeys} AS dr_c, count(*) AS dr_n, sum(${rowHash}) AS dr_h, bit_or(1::bigint << (${offset} % ${chunkKeys})::int) AS dr_m
      FROM ${table} WHERE ${key} BETWEEN ${lo} AND ${lo + width - 1n} GROUP BY 1)
    SELECT 0 AS kind, (dr_c / ${perBucket})::text AS at, sum(dr_n)::text AS n, sum(dr_h)::text AS h FROM dr_chunks GROUP BY dr_c / ${perBucket}
    UNION ALL
    SELECT 1, (dr_c / ${chunksPerGroup})::text, concat_ws(':', ${[0, 1, 2, 3].map(word).join(', ')}),
      string_agg(CASE WHEN dr_n < ${full} THEN dr_c || ':' || (dr_m & 4294967295) || ':' || ((dr_m >> 32) & 4294967295) END, ',')
    FROM dr_chunks GROUP BY dr_c / ${chunksPerGroup}`;
}

/**
 * The rows of a side whose keys the other side lacks (a zero bit in its bitmap, passed as $1), summed
 * per sub-range: the only rows hashed a second time.
 */
export function oneSidedSumsSql(table: string, key: string, rowHash: string, lo: bigint, width: bigint, childWidth: bigint): string {
  const offset = `(${key}::bigint - ${lo})`;
  return `SELECT (${offset} / ${childWidth})::int, count(*)::int, sum(${rowHash})::text FROM ${table}
    WHERE ${key} BETWEEN ${lo} AND ${lo + width - 1n} AND get_bit($1::bytea, ${offset}) = 0 GROUP BY 1`;
}

/**
 * One "chunk:low:high" of a masks text (the bitmap pass's and the gap scan's), read from `at` into `out`
 * without an object per chunk; returns where the next one starts, past its comma.
 */
export function readChunkMask(text: string, at: number, out: { chunk: number; low: number; high: number }): number {
  const length = text.length;
  let chunk = 0;
  for (let c = text.charCodeAt(at); at < length && c !== 58; c = text.charCodeAt(++at)) chunk = chunk * 10 + c - 48;
  let low = 0;
  for (let c = text.charCodeAt(++at); at < length && c !== 58; c = text.charCodeAt(++at)) low = low * 10 + c - 48;
  let high = 0;
  for (at++; at < length; at++) {
    const c = text.charCodeAt(at);
    if (c === 44) break;
    high = high * 10 + c - 48;
  }
  out.chunk = chunk;
  out.low = low;
  out.high = high;
  return at + 1;
}

/** The keys one side holds in [lo, lo + width): bit i of chunk c is key lo + 64c + i (get_bit's order). */
export class KeyBitmap {
  /** Undefined while the side holds every key: no memory for a side that lacks none. */
  private bits: Buffer | undefined;
  readonly chunks: number;
  /** Groups the pass returned: the others hold no key. */
  private readonly seen: Uint8Array;

  constructor(readonly width: number) {
    this.chunks = Math.ceil(width / chunkKeys);
    this.seen = new Uint8Array(Math.ceil(this.chunks / chunksPerGroup));
  }

  /** True when the side lacks at least one key of the range. */
  get lacksKeys(): boolean {
    return this.bits !== undefined;
  }

  /** The bitmap as get_bit reads it (a side that lacks no key is never sent). */
  get buffer(): Buffer {
    if (!this.bits) throw new Error('a side that holds every key has no bitmap to send');
    return this.bits;
  }

  private writable(): Buffer {
    return (this.bits ??= Buffer.alloc(this.chunks * 8, 0xff));
  }

  /** One group row of the pass: which of its chunks hold any key ("w0:w1:w2:w3"), and the masks of those that lack some. */
  addGroup(group: number, presence: string, masks: string | null): void {
    const first = group * chunksPerGroup;
    const last = Math.min(first + chunksPerGroup, this.chunks);
    if (group >= this.seen.length || this.seen[group]) throw new Error(`the bitmap pass returned group ${group} twice or outside the range`);
    this.seen[group] = 1;
    if (presence !== '-1:-1:-1:-1') {
      const words = presence.split(':').map((w) => BigInt.asUintN(64, BigInt(w)));
      for (let chunk = first; chunk < last; chunk++) {
        const j = chunk - first;
        if (((words[j >> 6]! >> BigInt(j & 63)) & 1n) === 0n) this.writable().fill(0, chunk * 8, chunk * 8 + 8);
      }
    }
    if (masks === null) return;
    const bits = this.writable();
    // "chunk:low:high,…", read in place: no object per chunk.
    const length = masks.length;
    const mask = { chunk: 0, low: 0, high: 0 };
    let at = 0;
    while (at < length) {
      at = readChunkMask(masks, at, mask);
      const { chunk, low, high } = mask;
      if (chunk < first || chunk >= last) throw new Error(`the bitmap pass returned chunk ${chunk} in group ${group}`);
      bits.writeUInt32LE(low >>> 0, chunk * 8);
      bits.writeUInt32LE(high >>> 0, chunk * 8 + 4);
    }
  }

  /** Once every row of the pass is in: the groups it did not return hold no key. */
  finish(): void {
    for (let group = 0; group < this.seen.length; group++) {
      if (!this.seen[group]) this.writable().fill(0, group * chunksPerGroup * 8, Math.min((group + 1) * chunksPerGroup, this.chunks) * 8);
    }
  }

  /** The low (keys 0–31) or high (32–63) word of a chunk's mask. */
  word(chunk: number, high: 0 | 4): number {
    return this.bits ? this.bits.readUInt32LE(chunk * 8 + high) : 0xffffffff;
  }
}

/**
 * Reports the keys one bitmap holds and the other lacks, in key order: `onlyFirst` for keys of
 * `first` alone, `onlySecond` for keys of `second` alone. Returns how many of each.
 */
export async function reportOneSidedKeys(
  first: KeyBitmap,
  second: KeyBitmap,
  keyAt: (offset: number) => string,
  onlyFirst: (key: string) => void | Promise<void>,
  onlySecond: (key: string) => void | Promise<void>,
): Promise<[number, number]> {
  const counts: [number, number] = [0, 0];
  if (!first.lacksKeys && !second.lacksKeys) return counts;
  for (let chunk = 0; chunk < first.chunks; chunk++) {
    const valid = Math.min(chunkKeys, first.width - chunk * chunkKeys);
    for (const half of [0, 4] as const) {
      const bitsHere = Math.min(32, valid - half * 8);
      if (bitsHere <= 0) break;
      const inRange = bitsHere === 32 ? 0xffffffff : (2 ** bitsHere - 1) >>> 0;
      const a = first.word(chunk, half);
      const b = second.word(chunk, half);
      let firstOnly = (a & ~b & inRange) >>> 0;
      let secondOnly = (b & ~a & inRange) >>> 0;
      const base = chunk * chunkKeys + half * 8;
      for (let bit = 0; firstOnly || secondOnly; bit++, firstOnly >>>= 1, secondOnly >>>= 1) {
        if (firstOnly & 1) {
          counts[0]++;
          const written = onlyFirst(keyAt(base + bit));
          if (written) await written;
        }
        if (secondOnly & 1) {
          counts[1]++;
          const written = onlySecond(keyAt(base + bit));
          if (written) await written;
        }
      }
    }
  }
  return counts;
}
