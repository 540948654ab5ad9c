import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DatabasePlatform } from '../../activities/ports/database-platform';

// The DatabasePlatform port's contract: the local platform and RDS pass the same cases. `label` says what
// answers them ("RDS on moto, data on a real local PostgreSQL"); `platform()` is the platform under test,
// enrolled with `primary` (the production database's instance).

export interface PlatformUnderTest {
  platform: DatabasePlatform;
  primary: string;
}

export function databasePlatformContract(label: string, subject: () => PlatformUnderTest, options: { builds?: boolean } = {}): void {
  test(`${label}: the enrolled primary describes as a protected primary, enrolled, with an endpoint`, async () => {
    const { platform, primary } = subject();
    const d = await platform.describeInstance(primary);
    assert.equal(d.instanceId, primary);
    assert.equal(d.role, 'primary');
    assert.equal(d.status, 'available');
    assert.equal(d.protected, true);
    assert.deepEqual(d.origin, { kind: 'enrolled' });
    assert.ok(d.endpoint.host && d.endpoint.port > 0 && d.endpoint.database, JSON.stringify(d.endpoint));
    assert.ok(!Number.isNaN(Date.parse(d.createdAt)));
  });

  test(`${label}: an instance that does not exist is refused by describe, naming it; deleting it is a no-op; it has no connection`, async () => {
    const { platform } = subject();
    await assert.rejects(platform.describeInstance('no-such-instance'), /no-such-instance/);
    assert.deepEqual(await platform.deleteInstance('no-such-instance'), { deleted: false });
    assert.equal(await platform.connectionFor('no-such-instance'), undefined);
  });

  test(`${label}: deleting the enrolled primary is refused as protected, and it is still there`, async () => {
    const { platform, primary } = subject();
    await assert.rejects(platform.deleteInstance(primary), (e: Error) => e.name === 'PlatformRequestError' && /protected/.test(e.message) && e.message.includes(primary));
    assert.equal((await platform.describeInstance(primary)).instanceId, primary);
  });

  test(`${label}: a backup taken is listed last, with its label and times`, async () => {
    const { platform, primary } = subject();
    const taken = await platform.takeBackup({ sourceInstanceId: primary, type: 'full' });
    const listed = await platform.listBackups(primary);
    assert.equal(listed.at(-1)?.label, taken.label);
    assert.ok(Date.parse(taken.startedAt) <= Date.parse(taken.stoppedAt));
    const times = listed.map((b) => Date.parse(b.stoppedAt));
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'oldest first');
  });

  test(`${label}: a point-in-time target in the future or a year ago is refused, naming the target, and nothing is built`, async () => {
    const { platform, primary } = subject();
    const future = new Date(Date.now() + 3600_000).toISOString();
    await assert.rejects(platform.restoreToPointInTime({ instanceId: 'contract-pitr-future', sourceInstanceId: primary, target: { kind: 'time', time: future } }), (e: Error) => e.message.includes(future));
    const yearAgo = new Date(Date.now() - 365 * 86_400_000).toISOString();
    await assert.rejects(platform.restoreToPointInTime({ instanceId: 'contract-pitr-old', sourceInstanceId: primary, target: { kind: 'time', time: yearAgo } }), (e: Error) => e.message.includes(yearAgo));
    for (const id of ['contract-pitr-future', 'contract-pitr-old']) {
      await assert.rejects(platform.describeInstance(id), new RegExp(id));
      assert.equal(await platform.connectionFor(id), undefined);
    }
  });

  if (options.builds === false) return;

  test(`${label}: a restore to the latest point builds a new primary; the retried step gets the same instance back; delete removes it`, async () => {
    const { platform, primary } = subject();
    const id = 'contract-pitr-latest';
    const first = await platform.restoreToPointInTime({ instanceId: id, sourceInstanceId: primary, target: { kind: 'latest' } });
    try {
      assert.equal(first.instance.instanceId, id);
      assert.equal(first.reused, false);
      assert.equal(first.instance.role, 'primary');
      assert.equal(first.instance.acceptingConnections, true);
      assert.equal(first.instance.protected, false);
      assert.deepEqual({ kind: first.instance.origin.kind, source: (first.instance.origin as { sourceInstanceId: string }).sourceInstanceId }, { kind: 'pointInTime', source: primary });
      const again = await platform.restoreToPointInTime({ instanceId: id, sourceInstanceId: primary, target: { kind: 'latest' } });
      assert.equal(again.reused, true);
      assert.equal(again.instance.instanceId, id);
      const connection = await platform.connectionFor(id);
      assert.ok(connection && connection.user && connection.password, 'the worker can connect to it');
      await assert.rejects(platform.restoreBackupToNewInstance({ instanceId: id, sourceInstanceId: primary }), /already exists|not what|pointInTime/, 'an id taken by another build is not reused for a different one');
    } finally {
      assert.deepEqual(await platform.deleteInstance(id), { deleted: true });
    }
    assert.equal(await platform.connectionFor(id), undefined);
    assert.deepEqual(await platform.deleteInstance(id), { deleted: false });
  });
}
