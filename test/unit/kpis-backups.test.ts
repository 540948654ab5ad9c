import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { collectKpiInput } from '../../client/kpis';
import { computeKpis } from '../../contracts/kpis';
import { useWorkflowsServer } from '../support/workflows-server';

// Backup success and restore-test success are two figures: a backup whose restore test failed was still
// taken. The restore test's workflow with fake activities on the real dev server, counted through
// visibility and the histories of the runs that did not complete.
const w = useWorkflowsServer('dr-kpi-backups-unit-');

function fakes(script: { backupFails: boolean }) {
  const now = () => new Date().toISOString();
  return {
    async takeDatabaseBackup() {
      if (script.backupFails) throw ApplicationFailure.nonRetryable('pgbackrest backup: unable to acquire lock on the stanza', 'BackupFailed');
      return { stanza: 'main', label: '20261201-120000F', type: 'full', startedAt: now(), stoppedAt: now(), sizeBytes: 1, repositorySizeBytes: 1, walStart: '000000010000000000000001', walStop: '000000010000000000000001' };
    },
    async verifyDatabaseBackups() {
      return { ok: false, report: 'archive 000000010000000000000002 checksum mismatch' };
    },
    async recordBaselineVerdict() {
      return { verdictKey: 'baselines/production/verdict.json', good: false, reason: 'did not verify', restoreTest: { passed: false } };
    },
    async notify() {},
  };
}

async function runRestoreTest(backupFails: boolean, environment?: string): Promise<void> {
  await w.withWorker(fakes({ backupFails }), async (taskQueue) => {
    const handle = await w.env.client.workflow.start('backupWithBaseline', { taskQueue, workflowId: `restore-test-${randomUUID()}`, args: [environment ? { environment } : {}] });
    await assert.rejects(handle.result());
  }, 'kpi-backups');
}

test('a run whose restore test failed still took its backup; a run whose backup failed did not', async () => {
  const since = new Date(Date.now() - 60_000);
  await runRestoreTest(false);
  await runRestoreTest(true);
  await runRestoreTest(false);
  const period = { since, until: new Date(Date.now() + 60_000) };
  const deadline = Date.now() + 20_000;
  let input = await collectKpiInput(w.env.client, undefined, period);
  while (Object.values(input.recoveryTests).reduce((a, b) => a + b, 0) < 3 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    input = await collectKpiInput(w.env.client, undefined, period);
  }
  assert.deepEqual(input.recoveryTests, { Failed: 3 }, 'every restore test failed');
  assert.deepEqual(input.backups, { Completed: 2, Failed: 1 }, 'two of the three took their backup');
  const kpis = computeKpis(input);
  assert.deepEqual(kpis.recoveryTests, { succeeded: 0, runs: 3, rate: 0, byStatus: { Failed: 3 } });
  assert.equal(kpis.backups.succeeded, 2);
  assert.equal(kpis.backups.runs, 3);
});

test('a KPI filtered by environment counts only the backups taken in that environment', async () => {
  const since = new Date(Date.now() - 1000);
  const environment = `staging-${randomUUID().slice(0, 8)}`;
  await runRestoreTest(false, environment);
  await runRestoreTest(true, environment);
  await runRestoreTest(false);
  const period = { since, until: new Date(Date.now() + 60_000), environment };
  const deadline = Date.now() + 20_000;
  let input = await collectKpiInput(w.env.client, undefined, period);
  while (Object.values(input.recoveryTests).reduce((a, b) => a + b, 0) < 2 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    input = await collectKpiInput(w.env.client, undefined, period);
  }
  // Visibility is eventually consistent: give the third run's count (which must not appear) a moment too.
  await new Promise((r) => setTimeout(r, 1000));
  input = await collectKpiInput(w.env.client, undefined, period);
  assert.deepEqual(input.recoveryTests, { Failed: 2 }, 'only the two restore tests of this environment');
  assert.deepEqual(input.backups, { Completed: 1, Failed: 1 }, 'one of its two took its backup');
});
