import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Pool } from 'pg';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createAuditActivities, installAuditSchema, type AuditActivities, type AuditChainVerdict, type AuditEntry } from '../../activities/audit';
import { auditRowHash, canonicalTimestamp } from '../../activities/audit-hash';
import { startPostgresCluster, type PostgresCluster } from '../../activities/adapters/local/postgres/cluster';

// The audit trail on a real PostgreSQL 15: the writer role the runbook uses, and a superuser playing
// the attacker who disables the trigger and edits, deletes or forges rows.
const writerRole = 'dr_audit_writer';
let stateDir: string;
let cluster: PostgresCluster;
let admin: Client;
let writerPool: Pool;
let audit: AuditActivities;

before(async () => {
  stateDir = mkdtempSync(path.join(os.tmpdir(), 'dr-audit-'));
  chmodSync(stateDir, 0o755); // the unprivileged PostgreSQL user must be able to enter it
  cluster = await startPostgresCluster({ dir: path.join(stateDir, 'audit-cluster') });
  const bootstrap = new Client({ connectionString: cluster.url('postgres') });
  await bootstrap.connect();
  await bootstrap.query('CREATE DATABASE dr_audit');
  await bootstrap.end();
  admin = new Client({ connectionString: cluster.url('dr_audit') });
  await admin.connect();
  const writerPassword = randomBytes(12).toString('base64url');
  await installAuditSchema(admin, { writerRole, writerPassword });
  await installAuditSchema(admin, { writerRole, writerPassword }); // idempotent: every deploy runs it
  writerPool = new Pool({ host: '127.0.0.1', port: cluster.port, database: 'dr_audit', user: writerRole, password: writerPassword, max: 8 });
  audit = createAuditActivities(writerPool);
});

after(async () => {
  await writerPool?.end();
  await admin?.end();
  await cluster?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

function entries(from: number, to: number, overrides: Partial<AuditEntry> = {}): AuditEntry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => {
    const seq = from + i;
    return { seq, at: new Date(Date.UTC(2026, 10, 23, 3, 0, seq, 250)).toISOString(), actor: seq % 2 ? 'runbook' : 'alice', action: `step-${seq}.ended`, detail: { step: `step-${seq}`, outcome: 'ok', amounts: ['12.50', 3], nested: { z: seq, a: null } }, ...overrides };
  });
}

/** Activities run in an activity context, as the worker would run them (expected failures not logged). */
const quiet = { logger: new DefaultLogger('ERROR') };
const append = (workflowId: string, batch: AuditEntry[]): Promise<void> => new MockActivityEnvironment(undefined, quiet).run(audit.appendAuditEntries, { workflowId, entries: batch });
const verify = (workflowId: string): Promise<AuditChainVerdict> => new MockActivityEnvironment(undefined, quiet).run(audit.verifyAuditChain, { workflowId });
const problemsOf = async (workflowId: string) => (await verify(workflowId)).problems.map((p) => `${p.seq}:${p.problem}`);

async function rowCount(workflowId: string): Promise<number> {
  return (await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM dr_audit_log WHERE workflow_id = $1', [workflowId])).rows[0]!.n;
}

async function waitUntil(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for: ${what}`);
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
  return error;
}

/** What an attacker with superuser rights does: switch the append-only trigger off, tamper, switch it on. */
async function asAttacker(statements: Array<[string, unknown[]]>): Promise<void> {
  await admin.query('BEGIN');
  try {
    await admin.query('ALTER TABLE dr_audit_log DISABLE TRIGGER dr_audit_log_append_only');
    for (const [sql, params] of statements) await admin.query(sql, params);
    await admin.query('ALTER TABLE dr_audit_log ENABLE TRIGGER dr_audit_log_append_only');
    await admin.query('COMMIT');
  } catch (error) {
    await admin.query('ROLLBACK');
    throw error;
  }
}

async function writtenChain(length: number): Promise<string> {
  const workflowId = `runbook-${randomUUID()}`;
  await append(workflowId, entries(1, length));
  assert.deepEqual(await verify(workflowId), { ok: true, rows: length, problems: [] });
  return workflowId;
}

describe('appending', () => {
  test('writes a hash chain that an auditor can recompute from the stored rows', async () => {
    const workflowId = `runbook-${randomUUID()}`;
    await append(workflowId, entries(1, 3));
    await append(workflowId, entries(4, 5));
    const { rows } = await admin.query(`SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, actor, action, detail, prev_hash, hash FROM dr_audit_log WHERE workflow_id = $1 ORDER BY seq`, [workflowId]);
    assert.deepEqual(rows.map((r) => r.seq), [1, 2, 3, 4, 5]);
    let previous = '0'.repeat(64);
    for (const row of rows) {
      assert.equal(row.prev_hash, previous, `seq ${row.seq} chains from the row before`);
      assert.equal(row.hash, auditRowHash(previous, { workflowId, seq: row.seq, at: row.at, actor: row.actor, action: row.action, detail: row.detail }));
      previous = row.hash;
    }
    assert.equal(rows[0]!.at, canonicalTimestamp(entries(1, 1)[0]!.at));
    assert.deepEqual(await verify(workflowId), { ok: true, rows: 5, problems: [] });
  });

  test('a retry of the same batch writes nothing twice; an overlapping batch appends only what is new', async () => {
    const workflowId = `runbook-${randomUUID()}`;
    await append(workflowId, entries(1, 3));
    await append(workflowId, entries(1, 3));
    assert.equal(await rowCount(workflowId), 3);
    await append(workflowId, entries(2, 5));
    assert.equal(await rowCount(workflowId), 5);
    assert.deepEqual(await verify(workflowId), { ok: true, rows: 5, problems: [] });
  });

  test('the same seq with different content is refused, never overwritten', async () => {
    const workflowId = await writtenChain(3);
    const before = (await admin.query('SELECT hash FROM dr_audit_log WHERE workflow_id = $1 AND seq = 2', [workflowId])).rows[0]!.hash;
    const failure = await failureOf(append(workflowId, entries(2, 4, { actor: 'mallory' })));
    assert.equal(failure.type, 'AuditConflict');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /seq 2 is already stored with a different actor/);
    assert.equal(await rowCount(workflowId), 3, 'seq 4 of the refused batch was not written either');
    assert.equal((await admin.query('SELECT hash FROM dr_audit_log WHERE workflow_id = $1 AND seq = 2', [workflowId])).rows[0]!.hash, before);
  });

  test('a gap is refused with a non-retryable AuditGap', async () => {
    const workflowId = await writtenChain(3);
    const failure = await failureOf(append(workflowId, entries(5, 6)));
    assert.equal(failure.type, 'AuditGap');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /seq 5 cannot be appended, the audit trail ends at seq 3; seq 4 must come first/);

    const fresh = `runbook-${randomUUID()}`;
    const first = await failureOf(append(fresh, entries(2, 2)));
    assert.equal(first.type, 'AuditGap');
    assert.match(first.message, /ends at seq 0; seq 1 must come first/);

    const holey = await failureOf(append(fresh, [...entries(1, 1), ...entries(3, 3)]));
    assert.equal(holey.type, 'AuditGap');
    assert.match(holey.message, /^entries\[1\]\.seq: 3 does not follow 1/);
    assert.equal(await rowCount(workflowId), 3);
    assert.equal(await rowCount(fresh), 0);
  });

  test('concurrent appends of the same batch (activity retries racing) produce one copy', async () => {
    const workflowId = `runbook-${randomUUID()}`;
    const racers = [...Array.from({ length: 5 }, () => entries(1, 4)), entries(1, 6), entries(1, 2)];
    // Force the race: a SHARE lock lets every append read the (empty) tail but holds its INSERT, until
    // all of them are waiting; without the per-workflow lock they would all write seq 1.
    const blocker = new Client({ connectionString: cluster.url('dr_audit') });
    await blocker.connect();
    let results: PromiseSettledResult<void>[];
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE dr_audit_log IN SHARE MODE');
      const pending = racers.map((batch) => append(workflowId, batch));
      await waitUntil(async () => (await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'", [writerRole])).rows[0]!.n === racers.length, `all ${racers.length} appends waiting on a lock`);
      await blocker.query('COMMIT');
      results = await Promise.allSettled(pending);
    } finally {
      await blocker.end();
    }
    assert.deepEqual(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)), []);
    assert.equal(await rowCount(workflowId), 6);
    assert.deepEqual(await verify(workflowId), { ok: true, rows: 6, problems: [] });
  });

  test('a detail that looks like a secret is refused before anything is written, without echoing it', async () => {
    const workflowId = `runbook-${randomUUID()}`;
    const failure = await failureOf(append(workflowId, entries(1, 1, { detail: { target: { password: 'hunter2-secret-value' } } })));
    assert.equal(failure.type, 'SecretInAuditDetail');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /^entries\[0\]\.detail\.target\.password: the key looks like a secret/);
    assert.ok(!failure.message.includes('hunter2'));
    const url = await failureOf(append(workflowId, entries(1, 1, { detail: { restoredFrom: 'postgresql://app:hunter2@db/mita' } })));
    assert.equal(url.type, 'SecretInAuditDetail');
    assert.ok(!url.message.includes('hunter2'));
    assert.equal(await rowCount(workflowId), 0);
  });

  test('a bad entry is refused naming the field', async () => {
    const workflowId = `runbook-${randomUUID()}`;
    const local = await failureOf(append(workflowId, entries(1, 1, { at: '2026-11-23T03:00:00' })));
    assert.equal(local.type, 'InvalidAuditEntry');
    assert.match(local.message, /^entries\[0\]\.at: "2026-11-23T03:00:00" is not an ISO 8601 time with an offset/);
    const actor = await failureOf(append(workflowId, entries(1, 1, { actor: ' ' })));
    assert.match(actor.message, /^entries\[0\]\.actor: must be a non-empty string/);
    const nan = await failureOf(append(workflowId, entries(1, 1, { detail: { ratio: NaN } })));
    assert.match(nan.message, /^entries\[0\]\.detail\.ratio: NaN is not a finite number/);
    assert.equal(await rowCount(workflowId), 0);
  });
});

describe('append-only', () => {
  test('the writer role may INSERT and SELECT but not UPDATE, DELETE, TRUNCATE or disable the trigger', async () => {
    const workflowId = await writtenChain(2);
    const writer = await writerPool.connect();
    try {
      assert.equal((await writer.query('SELECT count(*)::int AS n FROM dr_audit_log WHERE workflow_id = $1', [workflowId])).rows[0]!.n, 2);
      for (const sql of [
        "UPDATE dr_audit_log SET actor = 'mallory' WHERE workflow_id = $1",
        'DELETE FROM dr_audit_log WHERE workflow_id = $1',
      ]) {
        await assert.rejects(writer.query(sql, [workflowId]), (e: { code?: string; message: string }) => e.code === '42501' && /permission denied for table dr_audit_log/.test(e.message), sql);
      }
      await assert.rejects(writer.query('TRUNCATE dr_audit_log'), /permission denied for table dr_audit_log/);
      await assert.rejects(writer.query('ALTER TABLE dr_audit_log DISABLE TRIGGER dr_audit_log_append_only'), /must be owner of table dr_audit_log/);
    } finally {
      writer.release();
    }
    assert.deepEqual(await verify(workflowId), { ok: true, rows: 2, problems: [] });
  });

  test('even the owner is stopped by the trigger while it is on', async () => {
    const workflowId = await writtenChain(2);
    await assert.rejects(admin.query("UPDATE dr_audit_log SET actor = 'oops' WHERE workflow_id = $1", [workflowId]), /dr_audit_log is append-only: UPDATE refused/);
    await assert.rejects(admin.query('DELETE FROM dr_audit_log WHERE workflow_id = $1', [workflowId]), /dr_audit_log is append-only: DELETE refused/);
    await assert.rejects(admin.query('TRUNCATE dr_audit_log'), /dr_audit_log is append-only: TRUNCATE refused/);
    assert.equal(await rowCount(workflowId), 2);
  });
});

describe('verifyAuditChain after tampering by a superuser', () => {
  test('an edited row is reported as edited', async () => {
    const workflowId = await writtenChain(5);
    await asAttacker([[`UPDATE dr_audit_log SET detail = jsonb_set(detail, '{outcome}', '"failed"') WHERE workflow_id = $1 AND seq = 3`, [workflowId]]]);
    const verdict = await verify(workflowId);
    assert.equal(verdict.ok, false);
    assert.equal(verdict.rows, 5);
    assert.deepEqual(verdict.problems.map((p) => `${p.seq}:${p.problem}`), ['3:edited']);
    assert.match(verdict.problems[0]!.detail, /content no longer matches its hash/);
  });

  test('an edit of the time by one microsecond, or of a number below double precision, is reported', async () => {
    const workflowId = await writtenChain(4);
    await append(workflowId, [{ seq: 5, at: '2026-11-23T04:00:00.000Z', actor: 'runbook', action: 'rpo.measured', detail: { lagSeconds: 0.1 } }]);
    await asAttacker([
      [`UPDATE dr_audit_log SET at = at + interval '1 microsecond' WHERE workflow_id = $1 AND seq = 2`, [workflowId]],
      [`UPDATE dr_audit_log SET detail = '{"lagSeconds": 0.10000000000000000001}' WHERE workflow_id = $1 AND seq = 5`, [workflowId]],
    ]);
    assert.deepEqual(await problemsOf(workflowId), ['2:edited', '5:edited']);
  });

  test('a deleted row is reported by its seq', async () => {
    const workflowId = await writtenChain(5);
    await asAttacker([['DELETE FROM dr_audit_log WHERE workflow_id = $1 AND seq = 2', [workflowId]]]);
    const verdict = await verify(workflowId);
    assert.equal(verdict.ok, false);
    assert.equal(verdict.rows, 4);
    assert.deepEqual(verdict.problems.map((p) => `${p.seq}:${p.problem}`), ['2:deleted']);
    // The runbook cannot paper over the hole either: its next append is refused.
    const failure = await failureOf(append(workflowId, entries(1, 6)));
    assert.equal(failure.type, 'AuditConflict');
    assert.match(failure.message, /seq 2 is missing/);
  });

  test('a forged row put in the middle is reported as inserted, and the rows pushed down as out of order', async () => {
    const workflowId = await writtenChain(4);
    const { rows } = await admin.query<{ hash: string }>('SELECT hash FROM dr_audit_log WHERE workflow_id = $1 AND seq = 2', [workflowId]);
    // A careful forger: a correct hash chained from seq 2, the later rows renumbered to make room.
    const forged = { workflowId, seq: 3, at: '2026-11-23T03:00:02.500000Z', actor: 'mallory', action: 'gate.approved', detail: { gate: 'cutover' } };
    await asAttacker([
      ['UPDATE dr_audit_log SET seq = 5 WHERE workflow_id = $1 AND seq = 4', [workflowId]],
      ['UPDATE dr_audit_log SET seq = 4 WHERE workflow_id = $1 AND seq = 3', [workflowId]],
      ['INSERT INTO dr_audit_log VALUES ($1, 3, $2, $3, $4, $5, $6, $7)', [workflowId, forged.at, forged.actor, forged.action, forged.detail, rows[0]!.hash, auditRowHash(rows[0]!.hash, forged)]],
    ]);
    assert.deepEqual(await problemsOf(workflowId), ['3:inserted', '4:out-of-order', '5:out-of-order']);
  });

  test('a forged row appended at the end without the right hash is reported as inserted', async () => {
    const workflowId = await writtenChain(3);
    await admin.query('INSERT INTO dr_audit_log VALUES ($1, 4, now(), $2, $3, $4, $5, $6)', [workflowId, 'mallory', 'gate.approved', { gate: 'cutover' }, 'a'.repeat(64), 'b'.repeat(64)]);
    const verdict = await verify(workflowId);
    assert.equal(verdict.ok, false);
    assert.deepEqual(verdict.problems.map((p) => `${p.seq}:${p.problem}`), ['4:inserted']);
  });

  test('an edited row re-hashed by the attacker breaks the link of the next row', async () => {
    const workflowId = await writtenChain(4);
    const row = (await admin.query(`SELECT prev_hash, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, action, detail FROM dr_audit_log WHERE workflow_id = $1 AND seq = 2`, [workflowId])).rows[0]!;
    const rehashed = auditRowHash(row.prev_hash, { workflowId, seq: 2, at: row.at, actor: 'mallory', action: row.action, detail: row.detail });
    await asAttacker([["UPDATE dr_audit_log SET actor = 'mallory', hash = $2 WHERE workflow_id = $1 AND seq = 2", [workflowId, rehashed]]]);
    const verdict = await verify(workflowId);
    assert.deepEqual(verdict.problems.map((p) => `${p.seq}:${p.problem}`), ['3:broken-link']);
    assert.match(verdict.problems[0]!.detail, /seq 2 was edited and re-hashed/);
  });

  test('other workflows\' trails are unaffected by tampering with one', async () => {
    const untouched = await writtenChain(3);
    const tampered = await writtenChain(3);
    await asAttacker([['DELETE FROM dr_audit_log WHERE workflow_id = $1 AND seq = 1', [tampered]]]);
    assert.deepEqual(await problemsOf(tampered), ['1:deleted']);
    assert.deepEqual(await verify(untouched), { ok: true, rows: 3, problems: [] });
  });
});
