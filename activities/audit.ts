import { ApplicationFailure } from '@temporalio/common';
import type { Pool, PoolClient } from 'pg';
import { auditRowHash, canonicalJson, canonicalTimestamp, chainAuditRows, GENESIS_HASH, NotCanonicalJsonError, type AuditRowContent } from './audit-hash';
import { findSecretLikeValues } from './audit-secrets';
import { newestAuditHead, publishAuditHead, workflowsWithHeads, type AuditHeadSigner } from './audit-heads';
import type { ObjectStore } from './ports/object-store';
import { FailureType } from '../contracts/failure-types';

export { installAuditSchema, type AuditSchemaOptions } from './audit-schema';
export { GENESIS_HASH } from './audit-hash';

/** One line of the audit trail, numbered by the runbook (seq 1, 2, 3, … per workflow, no gaps). */
export interface AuditEntry {
  seq: number;
  /** ISO 8601 with an offset, in workflow time. */
  at: string;
  actor: string;
  action: string;
  detail: Record<string, unknown>;
}

export type AuditProblemKind = 'edited' | 'inserted' | 'deleted' | 'out-of-order' | 'broken-link' | 'rewritten' | 'deleted-tail' | 'unsigned-tail' | 'forged-head' | 'unsigned';
export interface AuditProblem { seq: number; problem: AuditProblemKind; detail: string }
export interface AuditChainVerdict { ok: boolean; rows: number; problems: AuditProblem[] }
/** The chain and its signed head (what `dr audit verify` prints). */
export interface AuditTrailVerdict extends AuditChainVerdict {
  workflowId: string;
  /** The newest signed head found outside the database, if any. */
  head?: { seq: number; hash: string; at: string; keyId: string };
  /** Said when heads are not signed (config audit.headSigning): a deleted tail or a recomputed chain cannot be seen then. */
  warning?: string;
}

/** Where signed heads go, and the key they are signed with (config audit.headSigning; never in the database). */
export interface AuditHeadOptions {
  store: ObjectStore;
  signer: AuditHeadSigner;
}

/** Failure types a workflow may match on; all are non-retryable (a retry would fail the same way). */
export const auditFailureTypes = {
  gap: FailureType.AuditGap,
  conflict: FailureType.AuditConflict,
  invalid: FailureType.InvalidAuditEntry,
  secret: FailureType.SecretInAuditDetail,
} as const;

/** A row as verifyAuditChain reads it (at already in canonical form). */
export interface StoredAuditRow { seq: number; at: string; actor: string; action: string; detail: Record<string, unknown>; prev_hash: string; hash: string }

const selectRows = `
  SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, actor, action, detail, prev_hash, hash
  FROM dr_audit_log WHERE workflow_id = $1`;

const insertChunk = 1000; // 8 parameters a row, well under PostgreSQL's 65535

/** Checks one entry and returns it in canonical form; the message names the field and never echoes a secret. */
function canonicalEntry(workflowId: string, entry: AuditEntry, index: number): AuditRowContent {
  const field = `entries[${index}]`;
  const invalid = (message: string) => ApplicationFailure.nonRetryable(`${field}.${message}`, auditFailureTypes.invalid);
  if (!entry || typeof entry !== 'object') throw ApplicationFailure.nonRetryable(`${field}: must be an object`, auditFailureTypes.invalid);
  if (!Number.isInteger(entry.seq) || entry.seq < 1 || entry.seq > 2_147_483_647) throw invalid(`seq: must be a positive integer, got ${JSON.stringify(entry.seq)}`);
  for (const key of ['actor', 'action'] as const) {
    if (typeof entry[key] !== 'string' || entry[key].trim() === '') throw invalid(`${key}: must be a non-empty string`);
  }
  if (!entry.detail || typeof entry.detail !== 'object' || Array.isArray(entry.detail)) throw invalid('detail: must be an object');
  const secrets = findSecretLikeValues(entry.detail);
  if (secrets.length) {
    throw ApplicationFailure.nonRetryable(`${field}.${secrets[0]!.path}: ${secrets[0]!.reason}${secrets.length > 1 ? ` (and ${secrets.length - 1} more)` : ''}; nothing was written`, auditFailureTypes.secret);
  }
  try {
    const row: AuditRowContent = { workflowId, seq: entry.seq, at: canonicalTimestamp(entry.at), actor: entry.actor, action: entry.action, detail: entry.detail };
    // Round-trip through the canonical form: members that are undefined disappear exactly as in jsonb.
    row.detail = JSON.parse(canonicalJson(entry.detail, 'detail')) as Record<string, unknown>;
    canonicalJson(entry.actor, 'actor');
    canonicalJson(entry.action, 'action');
    return row;
  } catch (error) {
    if (error instanceof NotCanonicalJsonError) throw invalid(error.message);
    throw error;
  }
}

function storedContent(workflowId: string, row: StoredAuditRow): AuditRowContent {
  return { workflowId, seq: row.seq, at: row.at, actor: row.actor, action: row.action, detail: row.detail };
}

/** Fields of the entry that differ from the stored row (canonically compared). */
function differingFields(entry: AuditRowContent, stored: AuditRowContent): string[] {
  return (['at', 'actor', 'action', 'detail'] as const).filter((key) => canonicalJson(entry[key]) !== canonicalJson(stored[key]));
}

async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => { broken = rollbackError; });
    throw error;
  } finally {
    client.release(broken);
  }
}

/** `pool` may be on its way (the worker's pools are looked up asynchronously); each activity waits for it. */
export function createAuditActivities(poolOrPending: Pool | Promise<Pool>, options: { heads?: AuditHeadOptions } = {}) {
  const { heads } = options;
  const pending = Promise.resolve(poolOrPending);
  pending.catch(() => undefined); // a failure is reported by the first activity that needs the pool

  async function verifyChain(workflowId: string): Promise<AuditChainVerdict & { tail?: { seq: number; hash: string }; hashes: Map<number, string> }> {
    const pool = await pending;
    const { rows } = await pool.query<StoredAuditRow>(`${selectRows} ORDER BY seq`, [workflowId]);
    const problems = findChainProblems(workflowId, rows);
    const reported = new Set(problems.map((p) => p.seq));
    // jsonb keeps numbers exactly, JavaScript rounds them to doubles: a detail edited below double
    // precision would hash like the original. PostgreSQL compares the stored value with the hashed one.
    const clean = rows.filter((r) => !reported.has(r.seq) && r.detail && typeof r.detail === 'object');
    if (clean.length) {
      const drift = await pool.query<{ seq: number }>(
        `SELECT l.seq FROM dr_audit_log l JOIN unnest($2::int[], $3::text[]) AS c(seq, detail) ON l.seq = c.seq
         WHERE l.workflow_id = $1 AND l.detail IS DISTINCT FROM c.detail::jsonb ORDER BY l.seq`,
        [workflowId, clean.map((r) => r.seq), clean.map((r) => canonicalJson(r.detail))],
      );
      for (const { seq } of drift.rows) problems.push({ seq, problem: 'edited', detail: 'detail holds a number beyond double precision that hashes like the original value: it was edited' });
    }
    problems.sort((a, b) => a.seq - b.seq);
    const last = rows.at(-1);
    return { ok: problems.length === 0, rows: rows.length, problems, ...(last ? { tail: { seq: last.seq, hash: last.hash } } : {}), hashes: new Map(rows.map((r) => [r.seq, r.hash])) };
  }

  async function verifyTrail(workflowId: string): Promise<AuditTrailVerdict> {
    const { hashes, tail, ...chain } = await verifyChain(workflowId);
    if (!heads) return { workflowId, ...chain, warning: 'the trail\'s heads are not signed (config audit.headSigning): an edit followed by a recomputed chain, or deleted last rows, cannot be detected' };
    const problems = [...chain.problems];
    const found = await newestAuditHead(heads.store, heads.signer, workflowId);
    if (found.problem) problems.push({ seq: tail?.seq ?? 0, problem: 'forged-head', detail: found.problem });
    const head = found.head;
    if (!head && !found.problem && tail) problems.push({ seq: tail.seq, problem: 'unsigned', detail: `no signed head of this trail is in the object store: its ${chain.rows} rows cannot be told from rows written by someone else` });
    if (head) {
      const stored = hashes.get(head.seq);
      const lastSeq = tail?.seq ?? 0;
      if (head.seq > lastSeq) {
        problems.push({ seq: lastSeq + 1, problem: 'deleted-tail', detail: `the signed head is at seq ${head.seq} (signed ${head.at}), the table ends at seq ${lastSeq}: ${head.seq - lastSeq} row(s) at the end were deleted` });
      } else if (stored !== head.hash) {
        problems.push({ seq: head.seq, problem: 'rewritten', detail: `seq ${head.seq} hashes to ${stored?.slice(0, 12)}…, the signed head says ${head.hash.slice(0, 12)}…: rows were edited and the chain recomputed` });
      }
      if (lastSeq > head.seq) problems.push({ seq: head.seq + 1, problem: 'unsigned-tail', detail: `seq ${head.seq + 1}–${lastSeq} come after the newest signed head (seq ${head.seq}): written by someone else, or by a runbook writing right now (verify again)` });
    }
    problems.sort((a, b) => a.seq - b.seq);
    return { workflowId, ok: problems.length === 0, rows: chain.rows, problems, ...(head ? { head: { seq: head.seq, hash: head.hash, at: head.at, keyId: head.signer.keyId } } : {}) };
  }

  return {
    /**
     * Appends entries to the workflow's hash chain. Idempotent on (workflow_id, seq): entries already
     * stored with the same content are skipped, so an activity retry writes nothing twice; the same seq
     * with different content is refused (AuditConflict), never overwritten. Seqs must continue the
     * chain without a gap (AuditGap).
     */
    async appendAuditEntries(input: { workflowId: string; entries: AuditEntry[] }): Promise<void> {
      if (!input || typeof input.workflowId !== 'string' || input.workflowId.trim() === '') throw ApplicationFailure.nonRetryable('workflowId: must be a non-empty string', auditFailureTypes.invalid);
      if (!Array.isArray(input.entries)) throw ApplicationFailure.nonRetryable('entries: must be an array', auditFailureTypes.invalid);
      const entries = input.entries.map((entry, i) => canonicalEntry(input.workflowId, entry, i));
      if (entries.length === 0) return;
      entries.forEach((entry, i) => {
        if (i > 0 && entry.seq !== entries[i - 1]!.seq + 1) {
          throw ApplicationFailure.nonRetryable(`entries[${i}].seq: ${entry.seq} does not follow ${entries[i - 1]!.seq}; a batch must be consecutive seqs in order`, auditFailureTypes.gap);
        }
      });
      const first = entries[0]!.seq;
      const last = entries[entries.length - 1]!.seq;

      const trailTail = await inTransaction(await pending, async (client) => {
        // One writer per workflow at a time; the reads below see everything the previous holder committed.
        await client.query("SELECT pg_advisory_xact_lock(hashtext('dr_audit_log'), hashtext($1))", [input.workflowId]);
        const tail = await client.query<{ seq: number; hash: string }>('SELECT seq, hash FROM dr_audit_log WHERE workflow_id = $1 ORDER BY seq DESC LIMIT 1', [input.workflowId]);
        const lastStored = tail.rows[0]?.seq ?? 0;
        if (first > lastStored + 1) {
          throw ApplicationFailure.nonRetryable(
            `workflow ${input.workflowId}: seq ${first} cannot be appended, the audit trail ends at seq ${lastStored}; seq ${lastStored + 1}${first > lastStored + 2 ? `–${first - 1}` : ''} must come first (if the runbook already wrote it, a row was removed: run verifyAuditChain)`,
            auditFailureTypes.gap,
          );
        }
        if (first <= lastStored) {
          const overlap = await client.query<StoredAuditRow>(`${selectRows} AND seq BETWEEN $2 AND $3 ORDER BY seq`, [input.workflowId, first, Math.min(last, lastStored)]);
          const stored = new Map(overlap.rows.map((row) => [row.seq, row]));
          for (const entry of entries.filter((e) => e.seq <= lastStored)) {
            const row = stored.get(entry.seq);
            if (!row) {
              throw ApplicationFailure.nonRetryable(`workflow ${input.workflowId}: seq ${entry.seq} is missing although the trail reaches seq ${lastStored}; a row was removed — run verifyAuditChain`, auditFailureTypes.conflict);
            }
            const fields = differingFields(entry, storedContent(input.workflowId, row));
            if (fields.length) {
              throw ApplicationFailure.nonRetryable(`workflow ${input.workflowId}: seq ${entry.seq} is already stored with a different ${fields.join(', ')}; audit rows are never overwritten`, auditFailureTypes.conflict);
            }
          }
        }
        const fresh = entries.filter((e) => e.seq > lastStored);
        const chained = chainAuditRows(tail.rows[0]?.hash ?? GENESIS_HASH, fresh);
        for (let start = 0; start < chained.length; start += insertChunk) {
          const chunk = chained.slice(start, start + insertChunk);
          const values = chunk.map((_, i) => `($${i * 8 + 1}, $${i * 8 + 2}, $${i * 8 + 3}::timestamptz, $${i * 8 + 4}, $${i * 8 + 5}, $${i * 8 + 6}::jsonb, $${i * 8 + 7}, $${i * 8 + 8})`);
          const params = chunk.flatMap((r) => [r.workflowId, r.seq, r.at, r.actor, r.action, canonicalJson(r.detail), r.prevHash, r.hash]);
          await client.query(`INSERT INTO dr_audit_log (workflow_id, seq, at, actor, action, detail, prev_hash, hash) VALUES ${values.join(', ')}`, params);
        }
        const newest = chained.at(-1);
        return newest ? { seq: newest.seq, hash: newest.hash } : tail.rows[0] ? { seq: tail.rows[0].seq, hash: tail.rows[0].hash } : undefined;
      });
      // The head goes outside the database, signed: a retry publishes it again (the same object).
      if (heads && trailTail) await publishAuditHead(heads.store, heads.signer, { workflowId: input.workflowId, ...trailTail });
    },

    /**
     * Recomputes every hash and link of the workflow's trail and names each row that was edited,
     * inserted, deleted or moved. What a hash chain alone cannot see: rows removed from the END of the
     * trail, or rows appended by someone who recomputes the chain — compare `rows` with the runbook's
     * own count (its last seq) for that.
     */
    async verifyAuditChain(input: { workflowId: string }): Promise<AuditChainVerdict> {
      if (!input || typeof input.workflowId !== 'string' || input.workflowId.trim() === '') throw ApplicationFailure.nonRetryable('workflowId: must be a non-empty string', auditFailureTypes.invalid);
      const { ok, rows, problems } = await verifyChain(input.workflowId);
      return { ok, rows, problems };
    },

    /**
     * The chain and its signed head: an edited row (the chain), a chain recomputed after an edit (the
     * head's hash), deleted last rows (the head's seq), rows after the head, a forged head.
     */
    async verifyAuditTrail(input: { workflowId: string }): Promise<AuditTrailVerdict> {
      if (!input || typeof input.workflowId !== 'string' || input.workflowId.trim() === '') throw ApplicationFailure.nonRetryable('workflowId: must be a non-empty string', auditFailureTypes.invalid);
      return verifyTrail(input.workflowId);
    },

    /** Every trail the database or the object store knows (a trail whose rows are all gone still has its heads). */
    async verifyAuditTrails(): Promise<{ checked: number; failed: AuditTrailVerdict[]; warning?: string }> {
      const inDatabase = (await (await pending).query<{ workflow_id: string }>('SELECT DISTINCT workflow_id FROM dr_audit_log ORDER BY 1')).rows.map((r) => r.workflow_id);
      const withHeads = heads ? await workflowsWithHeads(heads.store) : [];
      const all = [...new Set([...inDatabase, ...withHeads])].sort();
      const failed: AuditTrailVerdict[] = [];
      let warning: string | undefined;
      for (const workflowId of all) {
        const verdict = await verifyTrail(workflowId);
        warning ??= verdict.warning;
        if (!verdict.ok) failed.push(verdict);
      }
      return { checked: all.length, failed, ...(warning ? { warning } : {}) };
    },
  };
}

export type AuditActivities = ReturnType<typeof createAuditActivities>;

function safeHash(prevHash: string, row: AuditRowContent): string | undefined {
  try {
    return auditRowHash(prevHash, row);
  } catch {
    return undefined; // a NULL or non-JSON value put there by hand: no hash can match
  }
}

const short = (hash: string | null | undefined) => (hash ? `${hash.slice(0, 12)}…` : String(hash));

/** The pure part of verifyAuditChain: rows sorted by seq, as read with `selectRows`. */
export function findChainProblems(workflowId: string, rows: StoredAuditRow[]): AuditProblem[] {
  const problems: AuditProblem[] = [];
  const seen = new Set<string>();
  const report = (seq: number, problem: AuditProblemKind, detail: string) => {
    if (seen.has(`${seq}:${problem}`)) return;
    seen.add(`${seq}:${problem}`);
    problems.push({ seq, problem, detail });
  };

  const chain = rows.filter((row) => {
    if (row.seq >= 1) return true;
    report(row.seq, 'inserted', `seq ${row.seq} is outside the trail (seqs start at 1)`);
    return false;
  });
  const indexOfHash = new Map(chain.map((row, i) => [row.hash, i]));
  const maxSeq = chain.length ? chain[chain.length - 1]!.seq : 0;

  chain.forEach((row, i) => {
    const previous = chain[i - 1];
    const expectedSeq = previous ? previous.seq + 1 : 1;
    if (row.seq > expectedSeq) {
      const missing = row.seq - expectedSeq;
      const range = missing === 1 ? `seq ${expectedSeq} is` : `seqs ${expectedSeq}–${row.seq - 1} are`;
      const between = previous ? `between seq ${previous.seq} and seq ${row.seq}` : `before seq ${row.seq}`;
      // One problem per missing seq names each deleted row; a huge hole is named once.
      if (missing <= 100) for (let seq = expectedSeq; seq < row.seq; seq++) report(seq, 'deleted', `seq ${seq} is missing ${between}`);
      else report(expectedSeq, 'deleted', `${range} missing ${between}`);
    }
    const content = storedContent(workflowId, row);
    const selfConsistent = safeHash(row.prev_hash, content) === row.hash;
    // After a hole the expected link is the deleted row's hash, which is gone: that link is not judged.
    const expectedPrev = row.seq === expectedSeq ? (previous ? previous.hash : GENESIS_HASH) : undefined;
    const linked = expectedPrev === undefined || row.prev_hash === expectedPrev;
    const writtenAs = selfConsistent ? undefined : findOriginalSeq(row, content, maxSeq);

    if (!selfConsistent) {
      if (!linked && safeHash(expectedPrev!, content) === row.hash) {
        report(row.seq, 'edited', `prev_hash was changed to ${short(row.prev_hash)}; the row was written chaining from ${short(expectedPrev)}`);
        return;
      }
      if (writtenAs !== undefined) {
        report(row.seq, 'out-of-order', `the row was written as seq ${writtenAs} and renumbered to seq ${row.seq}`);
      } else if (!linked) {
        report(row.seq, 'inserted', `neither its hash nor its prev_hash fit the chain (prev_hash ${short(row.prev_hash)}, expected ${short(expectedPrev)}): the chain never wrote this row`);
        return;
      } else {
        report(row.seq, 'edited', `its content no longer matches its hash (stored ${short(row.hash)}, recomputed ${short(safeHash(row.prev_hash, content))})`);
      }
    }
    if (linked) return;
    const target = indexOfHash.get(row.prev_hash);
    if (target !== undefined && target < i - 1) {
      // Rows the chain skips were put in, unless they are rows of the chain moved elsewhere.
      for (const skipped of chain.slice(target + 1, i).filter((r) => !seen.has(`${r.seq}:out-of-order`))) {
        report(skipped.seq, 'inserted', `the chain runs from seq ${chain[target]!.seq} straight to seq ${row.seq}: seq ${skipped.seq} was put in between`);
      }
    } else if (target !== undefined && target >= i) {
      report(row.seq, 'out-of-order', `seq ${row.seq} chains from seq ${chain[target]!.seq}, which comes after it`);
    } else if (writtenAs !== undefined && writtenAs > row.seq) {
      report(row.seq, 'deleted', `written as seq ${writtenAs} after a row that is gone: a row before it was deleted and the rest renumbered`);
    } else {
      report(row.seq, 'broken-link', `prev_hash ${short(row.prev_hash)} is not the hash of ${previous ? `seq ${previous.seq} (${short(previous.hash)}): seq ${previous.seq} was edited and re-hashed, or a row between them was deleted and the rest renumbered` : `the genesis (${short(GENESIS_HASH)})`}`);
    }
  });
  return problems.sort((a, b) => a.seq - b.seq);
}

/** A renumbered row still hashes under the seq it was written with. */
function findOriginalSeq(row: StoredAuditRow, content: AuditRowContent, maxSeq: number): number | undefined {
  for (let seq = 1; seq <= maxSeq + 1; seq++) {
    if (seq !== row.seq && safeHash(row.prev_hash, { ...content, seq }) === row.hash) return seq;
  }
  return undefined;
}
