import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DatabaseDirectory } from '../../activities/database-connections';
import { createValidationActivities } from '../../activities/validation';
import { findLastGoodBaseline, saveVerdict, verdictKey, type BaselineVerdict, type RestoreTestResult } from '../../activities/validation/baseline';
import { createMemoryObjectStore } from '../support/memory-object-store';

const verdict = (label: string, stoppedAt: string, good: boolean): BaselineVerdict => ({
  formatVersion: 1,
  database: 'production',
  backupLabel: label,
  backup: { label, startedAt: stoppedAt, stoppedAt },
  ...(good ? { baselineKey: `baselines/production/${label}.json`, consistentAt: stoppedAt, historyUpTo: stoppedAt } : {}),
  verification: { ok: good, report: '' },
  good,
  ...(good ? {} : { reason: 'the backup did not verify' }),
  recordedAt: stoppedAt,
});

test('the last known good baseline at or before the target: newest by the backup\'s end, skipping bad ones and later ones, whatever the labels', async () => {
  const store = createMemoryObjectStore();
  // Labels that do not sort by time (an RDS snapshot's name can be anything): the key carries the end.
  await saveVerdict(store, verdict('zz-oldest', '2026-11-20T01:00:00Z', true));
  await saveVerdict(store, verdict('aa-good', '2026-11-22T01:00:00Z', true));
  await saveVerdict(store, verdict('mm-bad', '2026-11-23T01:00:00Z', false));
  await saveVerdict(store, verdict('bb-later', '2026-11-25T01:00:00Z', true));
  assert.equal(verdictKey('production', 'aa-good', '2026-11-22T01:00:00Z'), 'baselines/production/verdicts/2026-11-22T01:00:00.000Z_aa-good.json');
  const found = await findLastGoodBaseline(store, 'production', '2026-11-24T00:00:00Z');
  assert.deepEqual(found, { found: true, baselineKey: 'baselines/production/aa-good.json', backupLabel: 'aa-good', consistentAt: '2026-11-22T01:00:00Z', historyUpTo: '2026-11-22T01:00:00Z', stoppedAt: '2026-11-22T01:00:00Z' });
  assert.equal((await findLastGoodBaseline(store, 'production', '2026-11-22T01:00:00Z')).found, true, 'a backup that ended at the target counts');
  const none = await findLastGoodBaseline(store, 'production', '2026-11-19T00:00:00Z');
  assert.deepEqual(none, { found: false, reason: 'no known good baseline of production from a backup that ended at or before 2026-11-19T00:00:00Z (4 backup verdicts stored, 4 only after 2026-11-19T00:00:00Z; backupWithBaseline takes one with every backup)' });
  assert.match((await findLastGoodBaseline(store, 'staging', '2026-11-24T00:00:00Z') as { reason: string }).reason, /\(0 backup verdicts stored;/);
  assert.throws(() => verdictKey('production', '../x', '2026-11-22T01:00:00Z'), /backupLabel: /);
});

test('a verdict is the backup\'s restore test: stored with its restore time and where it failed, and told to the backup-validation hook (backup_validation_success)', async () => {
  const store = createMemoryObjectStore();
  const told: Array<[string, RestoreTestResult]> = [];
  const noDatabases = { pool: () => { throw new Error('no database is read for a verdict without a baseline'); } } as unknown as DatabaseDirectory;
  const activities = createValidationActivities(noDatabases, store, { recordBackupValidation: (database, result) => told.push([database, result]) });
  const backup = { label: '20261201-120000F', startedAt: '2026-12-01T12:00:00Z', stoppedAt: '2026-12-01T12:00:09Z' };
  const notRestored = await activities.recordBaselineVerdict({ database: 'production', backup, verification: { ok: true, report: '' }, reason: 'the backup did not restore: pg_ctl exited 1', failedAt: 'restore', restoreSeconds: 12.3 });
  assert.equal(notRestored.good, false);
  const expected: RestoreTestResult = { backupLabel: '20261201-120000F', passed: false, failedAt: 'restore', restoreSeconds: 12.3, failedChecks: [] };
  assert.deepEqual(notRestored.restoreTest, expected);
  assert.deepEqual(told, [['production', expected]]);
  const stored = JSON.parse((await store.get(notRestored.verdictKey))!.toString('utf8')) as BaselineVerdict;
  assert.deepEqual(stored.restoreTest, expected);

  const unverified = await activities.recordBaselineVerdict({ database: 'production', backup: { ...backup, label: 'B2' }, verification: { ok: false, report: 'checksum mismatch' } });
  assert.deepEqual(unverified.restoreTest, { backupLabel: 'B2', passed: false, failedAt: 'verify', failedChecks: [] });
  assert.equal(told.length, 2);
});
