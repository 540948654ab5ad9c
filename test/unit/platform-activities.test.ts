import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { createPlatformActivities, instanceIdFor } from '../../activities/platform-activities';
import { notConfiguredDatabasePlatform as unconfiguredDatabasePlatform } from '../../activities/ports/not-configured';
import { assertInstanceId } from '../../activities/ports/database-platform';
import { loadWorkerConfig } from '../../worker/config';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dr-platform-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('instance ids are stable per workflow and step, distinct otherwise, and valid everywhere', () => {
  const id = instanceIdFor('recover-INC-42/accidental deletion', 'restoreToPointInTime');
  assert.equal(id, instanceIdFor('recover-INC-42/accidental deletion', 'restoreToPointInTime'));
  assert.notEqual(id, instanceIdFor('recover-INC-42/accidental deletion', 'restoreBackupToNewInstance'));
  assert.notEqual(instanceIdFor('a_b', 'x'), instanceIdFor('a-b', 'x'), 'ids that sanitise alike still differ');
  assert.match(id, /^recover-inc-42-accidental-deletion-restoretopointi-[0-9a-f]{8}$/);
  for (const candidate of [id, instanceIdFor('9'.repeat(300), 'step'), instanceIdFor('---', '')]) {
    assert.ok(candidate.length <= 63, candidate);
    assert.doesNotThrow(() => assertInstanceId(candidate), candidate);
  }
});

test('without a configured platform, the activities refuse with what to configure, non-retryable', async () => {
  const activities = createPlatformActivities(unconfiguredDatabasePlatform());
  const env = new MockActivityEnvironment({ activityType: 'restoreToPointInTime' });
  const error = await env.run(activities.restoreToPointInTime, { database: 'production', target: { kind: 'latest' as const } }).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof ApplicationFailure);
  assert.equal(error.nonRetryable, true);
  assert.match(error.message, /no database platform is configured: add `platform.local`/);
});

test('config: platform.local is optional, its paths are relative to the config file, bad values are named', () => {
  const base = { environment: 'local', databases: { production: { port: 5432, database: 'mita', user: 'postgres', passwordSecret: 'pw' } } };
  const file = path.join(dir, 'dr-config.yaml');
  writeFileSync(file, JSON.stringify(base));
  assert.equal(loadWorkerConfig(file).platform, undefined);
  writeFileSync(file, JSON.stringify({ ...base, platform: { local: { stateDir: 'platform', repoPath: '/srv/repo' } } }));
  const local = loadWorkerConfig(file).platform!.local!;
  assert.deepEqual(local, { stateDir: path.join(dir, 'platform'), stanza: 'production', repoPath: '/srv/repo', processMax: 2, recoveryTimeoutSeconds: 1800 });
  writeFileSync(file, JSON.stringify({ ...base, platform: { local: { stateDir: 'platform', processMax: 0, stanza: 'a b' } } }));
  assert.throws(() => loadWorkerConfig(file), /platform\.local\.stanza: letters, digits, _ and - only.*platform\.local\.processMax/);
});
