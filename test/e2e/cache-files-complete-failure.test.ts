import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type Redis from 'ioredis';
import { seal, unseal } from '../../activities/adapters/local/file-backup/envelope';
import { withRedis, type RedisTarget } from '../../activities/adapters/local/redis/redis-client';
import { stopRedisServer } from '../../activities/adapters/local/redis/redis-server';
import { createPerformanceActivities } from '../../activities/performance';
import type { CacheBackup } from '../../activities/ports/cache-platform';
import type { FileBackupSet } from '../../activities/ports/file-backup';
import { startRunbook } from '../../client/runbooks';
import type { SystemSection } from '../../contracts/report';
import type { RunbookStatus } from '../../contracts/runbook-status';
import { startSteadyWriter } from '../../demo/steady-writer';
import { createAdapters, type Adapters } from '../../worker/adapters';
import { createDatabaseConnections } from '../../worker/database-connections';
import { abortUpdate, approveUpdate } from '../../workflows/messages';
import { recoverCacheInput, type RecoverCacheInput } from '../../workflows/recover-cache';
import { recoverFilesInput, type RecoverFilesInput } from '../../workflows/recover-files';
import { recoverFromCompleteSystemFailureInput, type RecoverFromCompleteSystemFailureInput } from '../../workflows/recover-from-complete-system-failure';
import { gateIsOpen, runbookOutcome, startScenarioStack, waitForRunbookStatus, type ScenarioStack } from '../support/scenario-stack';

// Seed 002's other systems on the real stack: production Redis 7 (AOF on) holding the app's sessions,
// the app's documents, configs and code, a PostgreSQL backup. recoverCache (RDB cut over, AOF drill,
// sessions), recoverFiles (restore, a flipped byte, a missing manifest entry), and the complete system
// failure: a drill aborted at its gate, a drill, and the real one (production PostgreSQL and Redis killed,
// the files lost), each restored from one backup generation. Bad inputs first, the real failure last.
let s: ScenarioStack;
let adapters: Adapters;
let strictDrillsQueue: string;
let rdb: CacheBackup;
let sessions: CacheBackup;
const fileBackups: Record<string, FileBackupSet> = {};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const production = (): RedisTarget => ({ host: '127.0.0.1', port: s.stack.cache.port, password: s.stack.cache.password });
const onProduction = <T>(fn: (redis: Redis) => Promise<T>) => withRedis(production(), fn);
const keyspace = (redis: Redis) => redis.info('keyspace').then((t) => t.split('\n').filter((l) => l.startsWith('db')).map((l) => l.trim().replace(/,avg_ttl=\d+.*/, '')).join(' '));

before(async () => {
  s = await startScenarioStack();
  adapters = createAdapters(s.config);
  strictDrillsQueue = await s.startWorker((c) => ({ ...c, approvals: { ...c.approvals, drill: { autoApprove: false } } }));
  // The backup generation the runbooks restore: Redis (RDB, AOF, sessions), the three archive kinds, a performance baseline.
  await onProduction(async (redis) => {
    await redis.set('marker:generation', 'one');
    await redis.set('session:expires-soon', 'gone by the restore', 'PX', 1500);
    await redis.set('session:long', JSON.stringify({ user: 7 }), 'EX', 600);
  });
  rdb = (await adapters.cachePlatform.takeBackup({ backupId: 'gen1-rdb', sourceInstanceId: 'production', kind: 'rdb' })).backup;
  await adapters.cachePlatform.takeBackup({ backupId: 'gen1-aof', sourceInstanceId: 'production', kind: 'aof' });
  sessions = (await adapters.cachePlatform.takeBackup({ backupId: 'gen1-sessions', sourceInstanceId: 'production', kind: 'sessions', sessions: s.config.cache!.sessions })).backup;
  for (const kind of ['documents', 'configs', 'code']) fileBackups[kind] = (await adapters.fileBackup.takeBackup({ archiveKind: kind, backupId: `gen1-${kind}` })).backup;
  const databases = createDatabaseConnections(s.config, adapters.secrets, adapters.databasePlatform);
  await createPerformanceActivities({ databases, cache: adapters.cachePlatform, objectStore: adapters.objectStore }).recordPerformanceBaseline({ key: 'production', database: 'production', cacheInstanceId: 'production' });
  await databases.close();
  await onProduction((redis) => redis.set('marker:after-generation', 'not in any backup'));
});
after(async () => {
  await s?.stop();
});

// ---- what a runbook leaves behind ----

/** Cache instances the platform has registered (production included), read fresh from its registry. */
function cacheInstances(): string[] {
  const file = path.join(s.config.cache!.local!.stateDir, 'instances.json');
  return existsSync(file) ? Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { records: Record<string, unknown> }).records).sort() : [];
}
/** Staging, previous and reverted copies beside every archive's directory and drill directory. */
function restoreLeftovers(): string[] {
  return Object.values(s.config.files!.archives).flatMap((a) => [a.sourceDir, a.drillDir!]).flatMap((dir) => (existsSync(path.dirname(dir)) ? readdirSync(path.dirname(dir)).filter((n) => n.startsWith(`${path.basename(dir)}.`)).map((n) => path.join(path.dirname(dir), n)) : []));
}
const drillDirsPresent = () => Object.values(s.config.files!.archives).filter((a) => existsSync(a.drillDir!)).map((a) => a.drillDir);

/** Everything about a tree a restore must reproduce: content, mode, symlink targets. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const key = rel ? `${rel}/${name}` : name;
      const st = lstatSync(full);
      if (st.isSymbolicLink()) out[key] = `link ${readlinkSync(full)}`;
      else if (st.isDirectory()) { out[key] = `dir ${(st.mode & 0o7777).toString(8)}`; walk(full, key); }
      else out[key] = `${(st.mode & 0o7777).toString(8)} ${readFileSync(full).toString('base64')}`;
    }
  };
  walk(root, '');
  return out;
}
const archiveDir = (kind: string) => s.config.files!.archives[kind]!.sourceDir;

async function appHealth(): Promise<{ status: string; database: { port: number }; checks?: Array<{ name: string; passed: boolean; figures?: { address?: string } }> }> {
  return (await fetch(`${s.stack.app!.url}/health/database`)).json() as never;
}

const atGate = (st: RunbookStatus) => gateIsOpen('cutover')(st) || st.verdict !== undefined;

function startCache(input: RecoverCacheInput, taskQueue = s.taskQueue) {
  return startRunbook(s.client, { workflowType: 'recoverCache', scenario: 'cache', input: recoverCacheInput.parse(input), taskQueue });
}
function startFiles(input: RecoverFilesInput, taskQueue = s.taskQueue) {
  return startRunbook(s.client, { workflowType: 'recoverFiles', scenario: 'files', input: recoverFilesInput.parse(input), taskQueue });
}
function startComplete(input: RecoverFromCompleteSystemFailureInput, taskQueue = s.taskQueue) {
  return startRunbook(s.client, { workflowType: 'recoverFromCompleteSystemFailure', scenario: 'complete-system-failure', input: recoverFromCompleteSystemFailureInput.parse(input), taskQueue });
}
async function approveWhenOpen(workflowId: string): Promise<void> {
  const waiting = await waitForRunbookStatus(s.client, workflowId, atGate);
  assert.equal(waiting.verdict, undefined, `waits at the gate: ${waiting.verdict} ${waiting.verdictDetail ?? ''}`);
  await s.client.workflow.getHandle(workflowId).executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob', comment: 'verified' }] });
}
/** The seeded rows are old; the database validation's recency check expects a live application. */
async function writeForAWhile(ms = 1000) {
  const writer = startSteadyWriter({ connectionString: s.productionUrl, ratePerSecond: 20, label: 'steady-writer' });
  await sleep(ms);
  return writer.stop();
}

test('bad inputs to each new runbook fail with InvalidInput naming the field, and nothing is created', async () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['recoverCache', { incidentId: 'INC-BAD', startedBy: 'alice', kind: 'snapshot' }, /kind: must be "rdb"/],
    ['recoverCache', { incidentId: 'INC-BAD', startedBy: 'alice', backupId: 'Bad Id' }, /backupId: must be a cache backup id/],
    ['recoverCache', { incidentId: 'INC-BAD', startedBy: 'alice', kind: 'sessions', sessionsBackupId: 'gen1-sessions' }, /sessionsBackupId: is for rdb and aof/],
    ['recoverFiles', { incidentId: 'INC-BAD', startedBy: 'alice', archives: [] }, /archives: must name at least one archive kind/],
    ['recoverFiles', { incidentId: 'INC-BAD', startedBy: 'alice', backupIds: { documents: 'x' }, asOf: '2026-11-23T03:00:00Z' }, /asOf: give backupIds or asOf, not both/],
    ['recoverFromCompleteSystemFailure', { incidentId: 'INC-BAD', startedBy: 'alice', replica: 'production' }, /replica: must be a standby/],
    ['recoverFromCompleteSystemFailure', { incidentId: 'INC-BAD', startedBy: 'alice', cacheBackup: 'sessions' }, /cacheBackup: must be "rdb" or "aof"/],
  ];
  for (const [workflowType, raw, field] of cases) {
    const handle = await s.client.workflow.start(workflowType, { taskQueue: s.taskQueue, workflowId: `bad-${randomUUID()}`, args: [raw] });
    const error = await handle.result().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof WorkflowFailedError, `${workflowType} fails: ${String(error)}`);
    const cause = error.cause as { type?: string; message: string };
    assert.equal(cause.type, 'InvalidInput', `${workflowType}: ${cause.message}`);
    assert.match(cause.message, field);
  }
  // An archive kind the worker does not know passes the schema and is refused by the first step, naming the field.
  const unknown = await startFiles({ incidentId: 'INC-BAD-KIND', startedBy: 'alice', archives: ['photos'] });
  const result = await runbookOutcome(s.client, unknown.workflowId);
  assert.equal(result.verdict, 'failed');
  assert.match(result.verdictDetail ?? '', /archives: "photos" is not configured \(configured: documents, configs, code\); nothing was restored/);
  assert.deepEqual(cacheInstances(), ['production']);
  assert.deepEqual(s.instanceIds(), ['production']);
  assert.deepEqual(restoreLeftovers(), []);
});

test('recoverCache AOF drill: the AOF restored into a new instance matches the backup\'s key counts and sampled values, and is removed', async () => {
  const handle = await startCache({ incidentId: 'DRILL-CACHE-AOF', startedBy: 'alice', mode: 'drill', kind: 'aof' });
  const result = await runbookOutcome<{ instanceId: string; verification: { ok: boolean; keyspace: Array<{ ok: boolean; actualKeys: number; expectedKeys: number; actualExpires: number; expectedExpires: number }>; sample: { checked: number; matched: number; mismatched: number; expiredSinceBackup: number } } }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  const v = result.output!.verification;
  // Every key without a TTL is there; keys with one may have run out since the backup (one session did, by design).
  assert.ok(v.ok && v.keyspace.length > 0 && v.keyspace.every((k) => k.ok && k.actualKeys - k.actualExpires === k.expectedKeys - k.expectedExpires && k.actualExpires <= k.expectedExpires), JSON.stringify(v));
  // Every sampled value matches, except a sampled key whose TTL ran out since (the short session may be one).
  assert.ok(v.sample.checked >= 20 && v.sample.mismatched === 0 && v.sample.matched + v.sample.expiredSinceBackup === v.sample.checked && v.sample.expiredSinceBackup <= 1, JSON.stringify(v.sample));
  assert.ok(result.timeline.some((t) => t.step.startsWith('restore AOF backup gen1-aof') && /AOF on, appendfsync everysec/.test(t.detail ?? '')));
  assert.ok(result.compensations.some((c) => c.outcome === 'succeeded' && c.name.startsWith('delete the restored cache instance')));
  assert.deepEqual(cacheInstances(), ['production']);
});

test('runDrill knows the new scenarios: a drill of the file restore passes against the files tier\'s objectives and leaves nothing', async () => {
  const handle = await s.client.workflow.start('runDrill', { taskQueue: s.taskQueue, workflowId: `drill-files-${randomUUID()}`, args: [{ scenario: 'files', startedBy: 'alice', archives: ['configs'] }] });
  const drill = (await handle.result()) as { passed: boolean; objectives: { rto: { objectiveSeconds: number; passed?: boolean }; rpo: { objectiveSeconds: number; passed?: boolean } } };
  assert.equal(drill.passed, true);
  assert.deepEqual([drill.objectives.rto.objectiveSeconds, drill.objectives.rpo.objectiveSeconds], [14_400, 3600], 'supporting tier: 4 h; files RPO: 1 h');
  assert.deepEqual(restoreLeftovers(), []);
  assert.deepEqual(drillDirsPresent(), []);
});

test('recoverCache RDB: restored into a new instance, verified against the backup, approved, the application cut over to it', async () => {
  const handle = await startCache({ incidentId: 'INC-CACHE-RDB', startedBy: 'alice', kind: 'rdb', failedAt: new Date().toISOString() });
  await approveWhenOpen(handle.workflowId);
  const result = await runbookOutcome<{ instanceId: string; systems: SystemSection[] }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  const instanceId = result.output!.instanceId;
  const connection = (await adapters.cachePlatform.connectionFor(instanceId))!;
  await withRedis({ ...connection }, async (redis) => {
    // The application has used it since (cached balances, its session check: keys with a TTL): the keys without one are the backup's.
    const persistent = (line: string) => line.split(' ').map((db) => { const [, name, keys, expires] = /^(db\d+):keys=(\d+),expires=(\d+)$/.exec(db)!; return `${name}:${Number(keys) - Number(expires)}`; }).join(' ');
    assert.equal(persistent(await keyspace(redis)), rdb.keyspace.map((k) => `db${k.db}:${k.keys - k.expires}`).join(' '), 'the key counts of the backup');
    assert.equal(await redis.get('marker:generation'), 'one');
    assert.equal(await redis.get('marker:after-generation'), null, 'a write after the backup is not in it');
  });
  const cacheCheck = (await appHealth()).checks?.find((c) => c.name === 'connectivity: cache');
  assert.equal(cacheCheck?.figures?.address, `127.0.0.1:${connection.port}`, 'the application uses the new instance');
  assert.equal(cacheCheck?.passed, true);
  assert.ok(result.rpo.achievedSeconds !== undefined && result.rpo.withinObjective, JSON.stringify(result.rpo));
  assert.equal(result.rpo.objectiveSeconds, 3600, 'Redis RPO: 1 hour');
  const [section] = result.output!.systems;
  assert.equal(section?.system, 'cache');
  assert.equal(section?.tier, 'critical');
  assert.equal(section?.rto?.objectiveSeconds, 7200);
  assert.ok(cacheInstances().includes(instanceId), 'the instance the application uses is kept');
});

test('recoverCache sessions: the export written back into the running cache keeps each remaining TTL and drops the sessions that expired', async () => {
  const expiry = Date.parse(sessions.sample.find((k) => k.key === 'session:long')!.expiresAt!);
  await onProduction(async (redis) => {
    for (const key of await redis.keys('session:*')) await redis.del(key); // the incident: the session store was flushed
  });
  await sleep(Math.max(0, Date.parse(sessions.takenAt) + 1600 - Date.now()));
  const handle = await startCache({ incidentId: 'INC-CACHE-SESSIONS', startedBy: 'alice', kind: 'sessions' });
  await approveWhenOpen(handle.workflowId);
  const result = await runbookOutcome<{ sessions: { total: number; restored: number; skippedExpired: number } }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.equal(result.output!.sessions.total, sessions.sessions!.exported);
  assert.equal(result.output!.sessions.skippedExpired, 1);
  assert.equal(result.output!.sessions.restored, sessions.sessions!.exported - 1);
  await onProduction(async (redis) => {
    assert.equal(await redis.exists('session:expires-soon'), 0, 'an expired session is not restored');
    assert.equal(Number(await redis.call('PEXPIRETIME', 'session:long')), expiry, 'the same expiry time as at the export');
    assert.ok((await redis.pttl('session:long')) < 600_000, 'the remaining TTL, not the original one');
    assert.equal((await redis.keys('session:*')).length, sessions.sessions!.exported - 1);
  });
  assert.ok(!JSON.stringify(result.timeline).includes('session:long'), 'session keys (credentials) are not in the timeline');
});

test('recoverFiles: the documents restored byte for byte with their modes after approval; no staging or previous copy is left', async () => {
  const original = tree(archiveDir('documents'));
  rmSync(path.join(archiveDir('documents'), 'statements'), { recursive: true }); // the incident
  writeFileSync(path.join(archiveDir('documents'), 'ransom-note.txt'), 'pay');
  const handle = await startFiles({ incidentId: 'INC-FILES-1', startedBy: 'alice', archives: ['documents'] });
  const waiting = await waitForRunbookStatus(s.client, handle.workflowId, atGate);
  assert.ok(existsSync(path.join(archiveDir('documents'), 'ransom-note.txt')), 'nothing is moved before the approval');
  assert.ok(waiting.timeline.some((t) => t.step.startsWith('stage documents backup gen1-documents') && /entries verified/.test(t.detail ?? '')));
  await s.client.workflow.getHandle(handle.workflowId).executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob' }] });
  const result = await runbookOutcome(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.deepEqual(tree(archiveDir('documents')), original);
  assert.deepEqual(restoreLeftovers(), []);
});

/** Replaces a stored object for the length of `run`. */
async function withStoredObject(file: string, change: (data: Buffer) => Buffer | Promise<Buffer>, run: () => Promise<void>): Promise<void> {
  const saved = readFileSync(file);
  writeFileSync(file, await change(Buffer.from(saved)));
  try { await run(); } finally { writeFileSync(file, saved); }
}
const versionFile = (key: string, versionId: string) => path.join(s.config.objectStore!.directory!, `${key}.versions`, versionId);

test('recoverFiles refuses a flipped byte in the archive and a file missing from the manifest before anything is moved, naming them', async () => {
  const backup = fileBackups.configs!;
  const before = tree(archiveDir('configs'));
  const keyFor = async (keyId: string) => Buffer.from(readFileSync(path.join(s.stack.stateDir, 'secrets', keyId), 'utf8').trim(), 'base64');
  const refused = async (incidentId: string): Promise<string> => {
    const handle = await startFiles({ incidentId, startedBy: 'alice', archives: ['configs'] });
    const result = await runbookOutcome(s.client, handle.workflowId);
    assert.equal(result.verdict, 'failed');
    assert.ok(!result.gates.some((g) => g.status !== 'pending'), 'it never reached the gate');
    assert.deepEqual(tree(archiveDir('configs')), before, 'the target is untouched');
    assert.deepEqual(restoreLeftovers(), []);
    return result.verdictDetail ?? '';
  };
  await withStoredObject(versionFile(backup.archive.key, backup.archive.versionId), (data) => { data[200] = data[200]! ^ 0x10; return data; }, async () => {
    assert.match(await refused('INC-FILES-FLIP'), /archive object "file-backups\/configs\/archive\.tar\.gz\.sealed" \(version [^)]+\) of backup "gen1-configs" is refused: .*altered or truncated/);
  });
  await withStoredObject(versionFile(backup.manifest.key, backup.manifest.versionId), async (data) => {
    const { header, plaintext } = await unseal(data, keyFor);
    const manifest = JSON.parse(plaintext.toString('utf8')) as { entries: Array<{ path: string }> };
    manifest.entries = manifest.entries.filter((e) => e.path !== 'cache.json');
    return seal(Buffer.from(JSON.stringify(manifest)), header, keyFor);
  }, async () => {
    assert.match(await refused('INC-FILES-MANIFEST'), /"cache\.json" is in the archive but not in the manifest.*nothing was moved into place/);
  });
});

function partOf(sections: SystemSection[] | undefined, system: string): SystemSection {
  const section = sections?.find((x) => x.system === system);
  assert.ok(section, `a report section for ${system}: ${JSON.stringify(sections)}`);
  return section;
}

test('complete system failure, drill aborted at its one gate: the children\'s instances and stagings are all removed', async () => {
  await writeForAWhile();
  const handle = await startComplete({ incidentId: 'DRILL-CSF-ABORT', startedBy: 'alice', mode: 'drill', checks: 2, checkIntervalSeconds: 1, benchmarks: false }, strictDrillsQueue);
  const waiting = await waitForRunbookStatus(s.client, handle.workflowId, atGate, 180_000);
  assert.equal(waiting.verdict, undefined, `waits at the gate: ${waiting.verdictDetail ?? ''}`);
  assert.deepEqual(waiting.openGates.map((g) => g.gate), ['cutover'], 'one gate for the whole recovery');
  for (const part of ['database', 'cache', 'files']) {
    const child = await runbookOutcome<{ handedOver: unknown[] }>(s.client, `${handle.workflowId}-${part}`);
    assert.equal(child.verdict, 'completed', `${part}: ${child.verdictDetail ?? ''}`);
    assert.ok(child.gates.every((g) => g.status === 'pending'), `the ${part} child opens no gate of its own`);
    assert.ok(child.output!.handedOver.length > 0, `the ${part} child hands what it built over`);
  }
  assert.equal(s.instanceIds().length, 2, 'the database child restored an instance');
  assert.equal(cacheInstances().length, 3, 'the cache child restored an instance');
  assert.equal(restoreLeftovers().length, 3, 'the files child staged the three archives');
  await handle.executeUpdate(abortUpdate, { args: [{ by: 'alice', reason: 'drill stopped at the gate on purpose' }] });
  const result = await runbookOutcome(s.client, handle.workflowId);
  assert.equal(result.verdict, 'aborted', result.verdictDetail);
  assert.ok(result.compensations.length >= 5 && result.compensations.every((c) => c.outcome === 'succeeded'), JSON.stringify(result.compensations));
  assert.deepEqual(s.instanceIds(), ['production']);
  assert.equal(cacheInstances().length, 2, 'only production and the instance the application was cut over to');
  assert.deepEqual(restoreLeftovers(), []);
  assert.deepEqual(drillDirsPresent(), []);
});

test('complete system failure drill: readiness, one backup generation, the three parts at once, each part\'s RTO and RPO against its tier; nothing left', async () => {
  await writeForAWhile();
  const handle = await startComplete({ incidentId: 'DRILL-CSF', startedBy: 'alice', mode: 'drill', checks: 2, checkIntervalSeconds: 1 });
  const result = await runbookOutcome<{ generation: { cache: { backupId: string }; files: Record<string, { backupId: string }> }; systems: SystemSection[]; performance?: Array<{ detail: string }> }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.equal(result.output!.generation.cache.backupId, 'gen1-rdb');
  assert.deepEqual(Object.values(result.output!.generation.files).map((f) => f.backupId), ['gen1-documents', 'gen1-configs', 'gen1-code']);
  for (const [system, tier, rto, rpo] of [['database', 'critical', 7200, 900], ['cache', 'critical', 7200, 3600], ['files', 'supporting', 14_400, 3600]] as const) {
    const section = partOf(result.output!.systems, system);
    assert.equal(section.tier, tier);
    assert.equal(section.rto?.objectiveSeconds, rto);
    assert.equal(section.rpo?.objectiveSeconds, rpo);
    assert.equal(section.rto?.withinObjective, true, `${system} RTO measured: ${JSON.stringify(section.rto)}`);
    assert.ok(section.rpo?.achievedSeconds !== undefined, `${system} RPO measured: ${JSON.stringify(section.rpo)}`);
  }
  assert.ok(result.output!.performance?.some((p) => /pgbench balance lookups: \d+ tps, [\d.]+× the \d+ tps at backup time/.test(p.detail)), JSON.stringify(result.output!.performance));
  assert.ok(result.output!.performance?.some((p) => /redis-benchmark GET: \d+ requests\/s, [\d.]+×/.test(p.detail)), JSON.stringify(result.output!.performance));
  const report = (await adapters.objectStore.get(`reports/${encodeURIComponent(handle.workflowId)}.md`))!.toString('utf8');
  assert.match(report, /## Recovered systems[\s\S]*### database \(tier: critical\)[\s\S]*### cache \(tier: critical\)[\s\S]*### files \(tier: supporting\)/);
  assert.deepEqual(s.instanceIds(), ['production']);
  assert.equal(cacheInstances().length, 2);
  assert.deepEqual(restoreLeftovers(), []);
  assert.deepEqual(drillDirsPresent(), []);
});

test('complete system failure: PostgreSQL and Redis killed, the files lost; after one approval the application runs on the recovered database, cache and files', async () => {
  const writer = startSteadyWriter({ connectionString: s.productionUrl, ratePerSecond: 20, label: 'before-failure' });
  await sleep(1500);
  await s.production((db) => db.query('SELECT pg_switch_wal()'));
  await sleep(1000);
  const documents = tree(archiveDir('documents'));
  const code = tree(archiveDir('code'));
  await s.stack.production.stop('immediate');
  await stopRedisServer(s.stack.cache.dir, 'kill');
  await writer.stop();
  rmSync(archiveDir('documents'), { recursive: true });
  rmSync(archiveDir('code'), { recursive: true });
  writeFileSync(path.join(archiveDir('configs'), 'app.json'), '{ "truncated": ');

  const handle = await startComplete({ incidentId: 'INC-CSF-1', startedBy: 'alice', checks: 2, checkIntervalSeconds: 1 });
  await approveWhenOpen(handle.workflowId);
  const result = await runbookOutcome<{ systems: SystemSection[]; instances: { database: string; cache: string }; applicationChecks: { passed: boolean; groups: Array<{ group: string; passed: boolean }> } }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.deepEqual(result.output!.applicationChecks.groups.map((g) => [g.group, g.passed]), [['connectivity', true], ['data integrity', true], ['functionality', true]]);
  const health = await appHealth();
  assert.equal(health.status, 'ok');
  assert.equal(health.database.port, (await s.platform.describeInstance(result.output!.instances.database)).endpoint.port, 'the application answers from the restored database');
  const cachePort = (await adapters.cachePlatform.connectionFor(result.output!.instances.cache))!.port;
  assert.equal(health.checks?.find((c) => c.name === 'connectivity: cache')?.figures?.address, `127.0.0.1:${cachePort}`, 'and uses the restored cache');
  assert.deepEqual(tree(archiveDir('documents')), documents);
  assert.deepEqual(tree(archiveDir('code')), code);
  assert.doesNotThrow(() => JSON.parse(readFileSync(path.join(archiveDir('configs'), 'app.json'), 'utf8')), 'the configs are the backup\'s again');
  assert.deepEqual(restoreLeftovers(), [], 'the restores are confirmed: no previous copies are kept');
  for (const system of ['database', 'cache', 'files']) {
    const section = partOf(result.output!.systems, system);
    assert.equal(section.rto?.withinObjective, true, `${system}: ${JSON.stringify(section.rto)}`);
    assert.equal(section.rpo?.withinObjective, true, `${system}: ${JSON.stringify(section.rpo)}`);
  }
  assert.ok(result.rto.cutoverVerifiedAt && result.rto.withinObjective);
});
