import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { RunbookResult } from '../../contracts/runbook-status';
import { abortUpdate, statusQuery } from '../../workflows/messages';
import { fixtureActivities, fixturePlan, newRecorder, type FixtureRecorder } from '../support/fixture-runbook';
import { useWorkflowsServer } from '../support/workflows-server';

// The complete-system-failure runbook's orchestration with fake activities: its child runbooks are
// cancelled with it, one failing part cancels the others, and whatever any of them built is undone.
const w = useWorkflowsServer('dr-csf-unit-');

const now = () => new Date().toISOString();
const objectives = { database: { tier: 'critical', rtoSeconds: 7200, rpoSeconds: 900 }, cache: { tier: 'critical', rtoSeconds: 7200, rpoSeconds: 3600 }, files: { tier: 'supporting', rtoSeconds: 14_400, rpoSeconds: 3600 } };

/** Holds an activity until released or cancelled (heartbeating, so the cancellation reaches it). */
async function holdWhile(isHeld: () => boolean): Promise<void> {
  const context = Context.current();
  while (isHeld()) {
    context.heartbeat();
    await context.sleep(100);
  }
}

/** The activities the four workflows call on their drill paths, faked: what was built and undone is recorded. */
function fakes(rec: FixtureRecorder, script: { holdDatabaseRestore?: () => boolean; failStaging?: string } = {}) {
  const base = fixtureActivities(rec, { loadRunbookPlan: async ({ scenario }) => ({ ...fixturePlan(), scenario, drill: { autoApprove: true }, systems: objectives }) });
  const built = (what: string) => { rec.work.push(what); return what; };
  return {
    ...base,
    async verifyReadiness() {
      return {
        checkedAt: now(), ready: true, checks: [{ id: 'database-backup', system: 'database', passed: true, blocking: true, detail: 'backup set L1' }],
        generation: { asOf: now(), database: { database: 'production', backupLabel: 'L1', stoppedAt: now(), ageSeconds: 1, sizeBytes: 1 }, cache: { cache: 'production', kind: 'rdb', backupId: 'rdb-1', takenAt: now(), ageSeconds: 1, totalBytes: 1 }, files: { documents: { backupId: 'documents-1', takenAt: now(), ageSeconds: 1, totalBytes: 1, keyId: 'k' }, configs: { backupId: 'configs-1', takenAt: now(), ageSeconds: 1, totalBytes: 1, keyId: 'k' } } },
      };
    },
    // The database child (a server-failure drill without a standby).
    async probeDatabase() { return { reachable: true, responseMs: 1, checkedAt: now() }; },
    async listDatabaseBackups() { return [{ label: 'L1', stoppedAt: now() }]; },
    async restoreToPointInTime() {
      if (script.holdDatabaseRestore) await holdWhile(script.holdDatabaseRestore);
      return { instance: { instanceId: built('db-restored'), endpoint: { port: 1 } }, backupLabel: 'L1', recoveredTo: { lastCommitAt: now() } };
    },
    async readNewestCommit() { return { newestCommitAt: now() }; },
    async runValidationChecks() { return { passed: true, checks: [], summary: ['✅ all fine'] }; },
    async deleteDatabaseInstance(input: { instanceId: string }) { rec.undone.push(input.instanceId); return { deleted: true }; },
    // The cache child.
    async findCacheBackup() { return { backupId: 'rdb-1', kind: 'rdb', sourceInstanceId: 'production', takenAt: now(), engineVersion: '7', keyspace: [], keys: 1, totalBytes: 1, objects: 1, sampled: 1 }; },
    async restoreCacheBackup() { return { instance: { instanceId: built('cache-restored'), endpoint: { host: 'h', port: 2 } }, backupId: 'rdb-1', reused: false }; },
    async verifyCacheInstance() { return { instanceId: 'cache-restored', backupId: 'rdb-1', ok: true, ping: 'PONG', keyspace: [], sample: { checked: 1, matched: 1, expiredSinceBackup: 0, mismatched: 0 }, problems: [] }; },
    async deleteCacheInstance(input: { instanceId: string }) { rec.undone.push(input.instanceId); return { deleted: true }; },
    // The files child.
    async findFileBackups() {
      const b = (kind: string) => ({ backupId: `${kind}-1`, archiveKind: kind, takenAt: now(), keyId: 'k', fileCount: 1, directoryCount: 0, symlinkCount: 0, totalBytes: 1, archiveVersionId: 'v', archiveBytes: 1 });
      return { documents: b('documents'), configs: b('configs') };
    },
    async stageFileRestore(input: { archiveKind: string; backupId: string }) {
      if (script.failStaging === input.archiveKind) throw ApplicationFailure.create({ type: 'BackupIntegrityError', nonRetryable: true, message: `archive of backup "${input.backupId}" does not match its manifest: "app.json" is in the archive but not in the manifest (a file); nothing was moved into place` });
      return { restoreId: built(`staged-${input.archiveKind}`), archiveKind: input.archiveKind, backupId: input.backupId, targetDir: `/x/${input.archiveKind}`, stagingDir: `/x/${input.archiveKind}.staging`, verifiedEntries: 1, ownershipApplied: false, reused: false };
    },
    async revertFileRestore(input: { restoreId: string }) { rec.undone.push(input.restoreId); return { restoreId: input.restoreId, targetDir: '/x', outcome: 'reverted', removed: [] }; },
    async moveFileRestoreIntoPlace(input: { restoreId: string }) { return { restoreId: input.restoreId, movedAt: now() }; },
    async comparePerformanceWithBaseline() { return { lines: [] }; },
    async checkRunbookTargets() { return { checked: [] }; },
  };
}

const withWorker = <T>(activities: object, fn: (taskQueue: string) => Promise<T>) => w.withWorker(activities, fn, 'csf');

function start(client: Client, taskQueue: string, extra: Record<string, unknown> = {}) {
  return client.workflow.start('recoverFromCompleteSystemFailure', { taskQueue, workflowId: `csf-${randomUUID()}`, args: [{ incidentId: 'DRILL-1', startedBy: 'carol', mode: 'drill', checks: 2, checkIntervalSeconds: 1, benchmarks: false, ...extra }] });
}

async function outcome(client: Client, workflowId: string): Promise<RunbookResult> {
  try {
    return (await client.workflow.getHandle(workflowId).result()) as RunbookResult;
  } catch (error) {
    assert.ok(error instanceof WorkflowFailedError, String(error));
    return (error.cause as unknown as { details: RunbookResult[] }).details[0]!;
  }
}

test('aborted while a part still restores: every child is cancelled, and what the others built is removed', async () => {
  const rec = newRecorder();
  let held = true;
  await withWorker(fakes(rec, { holdDatabaseRestore: () => held }), async (taskQueue) => {
    const handle = await start(w.env.client, taskQueue);
    // The cache and the files are handed over while the database still restores.
    for (let i = 0; i < 200 && !(rec.work.includes('cache-restored') && rec.work.includes('staged-configs')); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(rec.work.includes('cache-restored') && rec.work.includes('staged-configs'), rec.work.join(', '));
    await handle.executeUpdate(abortUpdate, { args: [{ by: 'carol', reason: 'wrong incident' }] });
    const result = await outcome(w.env.client, handle.workflowId);
    held = false;
    assert.equal(result.verdict, 'aborted', result.verdictDetail);
    assert.deepEqual([...rec.undone].sort(), ['cache-restored', 'staged-configs', 'staged-documents']);
    assert.ok(!rec.work.includes('db-restored'), 'the held restore was cancelled');
    const database = await w.env.client.workflow.getHandle(`${handle.workflowId}-database`).query(statusQuery);
    assert.equal(database.verdict, 'cancelled', 'the database child was cancelled with its parent');
    assert.ok(!(await handle.query(statusQuery)).gates.some((g) => g.status === 'open'), 'the gate was never opened');
  });
});

test('one part that fails cancels the others: the runbook fails naming the part and the file, and nothing is left', async () => {
  const rec = newRecorder();
  let held = true;
  await withWorker(fakes(rec, { holdDatabaseRestore: () => held, failStaging: 'configs' }), async (taskQueue) => {
    const handle = await start(w.env.client, taskQueue);
    const result = await outcome(w.env.client, handle.workflowId);
    held = false;
    assert.equal(result.verdict, 'failed');
    assert.match(result.verdictDetail ?? '', /the files was not recovered \(.*-files\): .*"app\.json" is in the archive but not in the manifest/);
    assert.deepEqual([...rec.undone].sort(), ['cache-restored', 'staged-documents'], 'the staged documents (by the files child itself) and the cache (by the parent, which adopted it)');
    assert.equal((await w.env.client.workflow.getHandle(`${handle.workflowId}-database`).query(statusQuery)).verdict, 'cancelled');
  });
});

test('a drill that gets through: one gate (the drill policy), each part handed over, everything removed at the end', async () => {
  const rec = newRecorder();
  await withWorker(fakes(rec), async (taskQueue) => {
    const handle = await start(w.env.client, taskQueue);
    const result = await outcome(w.env.client, handle.workflowId);
    assert.equal(result.verdict, 'completed', result.verdictDetail);
    assert.deepEqual(result.timeline.filter((t) => t.step.startsWith('gate ')).map((t) => t.step), ['gate cutover']);
    assert.deepEqual([...rec.undone].sort(), ['cache-restored', 'db-restored', 'staged-configs', 'staged-documents']);
    const systems = (result.output as { systems: Array<{ system: string; tier: string; rto: { withinObjective: boolean } }> }).systems;
    assert.deepEqual(systems.map((s) => [s.system, s.tier, s.rto.withinObjective]), [['database', 'critical', true], ['cache', 'critical', true], ['files', 'supporting', true]]);
  });
});
