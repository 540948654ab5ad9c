import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { groupApplicationChecks, redisUrlOf } from '../../activities/app-cache';
import { cacheInstanceIdFor, globToRegExp, maskKeys } from '../../activities/cache-activities';
import { parsePgbench } from '../../activities/performance/pgbench';
import { parseRedisBenchmarkCsv } from '../../activities/performance/redis-benchmark';
import { createRunbookPlanActivities } from '../../activities/runbook-plan';
import { buildScenarioInput } from '../../client/commands/start';
import { findScenario } from '../../client/scenarios';
import { describeIssues } from '../../contracts/inputs';
import { renderRunbookReport, reportExtrasFromOutput, SecretInReportError } from '../../contracts/report';
import type { RunbookResult } from '../../contracts/runbook-status';
import { createAdapters } from '../../worker/adapters';
import { loadWorkerConfig, workerConfigSchema } from '../../worker/config';
import { recoverCacheInput } from '../../workflows/recover-cache';
import { recoverFilesInput } from '../../workflows/recover-files';
import { recoverFromCompleteSystemFailureInput } from '../../workflows/recover-from-complete-system-failure';
import { scenarios } from '../../workflows/scenarios';

// Seed 002's systems, the pure parts: config keys, tiered objectives, the new runbooks' inputs, masking
// of session keys, the benchmark parsers, the application's check groups, the report's system sections.
const dir = mkdtempSync(path.join(os.tmpdir(), 'dr-seed-002-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const databases = 'databases:\n  production: { port: 5432, database: mita, user: app, passwordSecret: pw }\nobjectStore: { directory: objects }\n';
const load = (text: string) => {
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, text);
  return loadWorkerConfig(file);
};
const base = { incidentId: 'INC-1', startedBy: 'carol' };
function refusal(schema: { safeParse(v: unknown): { success: boolean; error?: unknown } }, input: unknown): string {
  const parsed = schema.safeParse(input);
  assert.ok(!parsed.success, `expected ${JSON.stringify(input)} to be refused`);
  return describeIssues(parsed.error as never);
}

test('cache and files config: paths resolved against the config file, defaults filled, exactly one cache platform', () => {
  const config = load(`${databases}cache:\n  local:\n    stateDir: cache\n    instances: { production: { port: 6380, passwordFile: secrets/redis } }\nfiles:\n  keyId: files-key-1\n  stateDir: files\n  archives:\n    documents: { sourceDir: app/documents, drillDir: drill/documents }\n    configs: { sourceDir: app/config, verify: { argv: [node, check.js] } }\n`);
  assert.equal(config.cache!.connectionSecret, 'app-cache-connection');
  assert.deepEqual(config.cache!.sessions, { pattern: 'session:*', db: 0 });
  assert.equal(config.cache!.local!.stateDir, path.join(dir, 'cache'));
  assert.equal(config.cache!.local!.instances.production!.passwordFile, path.join(dir, 'secrets', 'redis'));
  assert.equal(config.files!.archives.documents!.sourceDir, path.join(dir, 'app', 'documents'));
  assert.equal(config.files!.archives.documents!.drillDir, path.join(dir, 'drill', 'documents'));
  assert.deepEqual(config.files!.archives.configs!.verify, { argv: ['node', 'check.js'], timeoutSeconds: 300 });
  assert.throws(() => load(`${databases}cache:\n  connectionSecret: app-cache\n`), /cache: set exactly one of cache.local and cache.elasticache/);
  assert.throws(() => load(`${databases}files:\n  keyId: k\n  stateDir: f\n  archives: { Docs: { sourceDir: d } }\n`), /files\.archives\.Docs: /);
  assert.throws(() => load(`${databases}files:\n  keyId: k\n  stateDir: f\n  archives: {}\n`), /files\.archives: name at least one archive kind/);
  assert.throws(() => load(`${databases}objectives:\n  systems:\n    database: { tier: gold, rpo: 15m }\n    cache: { tier: critical, rpo: 1h }\n    files: { tier: supporting, rpo: 1h }\n`), /objectives\.systems\.database\.tier: "gold" is not in objectives\.tiers/);
});

test('cache.elasticache config: the wiring point builds the ElastiCache platform (RDB and sessions, no AOF); bad ids are refused naming the field', () => {
  const config = load(`${databases}cache:\n  elasticache:\n    region: eu-west-1\n    replicationGroups: { production: { replicationGroupId: mita-cache, authTokenSecret: mita-cache-token } }\n`);
  assert.equal(config.cache!.elasticache!.nodeType, 'cache.t4g.small');
  assert.equal(config.cache!.elasticache!.authTokenSecretPrefix, 'elasticache-auth-');
  assert.deepEqual(createAdapters(config).cachePlatform.backupKinds, ['rdb', 'sessions']);
  assert.throws(() => load(`${databases}cache:\n  elasticache:\n    region: eu-west-1\n    replicationGroups: { production: { replicationGroupId: Mita_Cache, authTokenSecret: t } }\n`), /cache\.elasticache\.replicationGroups\.production\.replicationGroupId: an ElastiCache replication group id/);
});

test('the plan: seed 002\'s tiers per system, and the cache, files and complete-system-failure objectives from them (a scenario\'s own wins)', async () => {
  const config = workerConfigSchema.parse({ environment: 'local', databases: {}, objectives: { scenarios: { files: { rpo: '30 minutes' } } } });
  const { loadRunbookPlan } = createRunbookPlanActivities(config);
  const cache = await loadRunbookPlan({ scenario: 'cache', environment: 'local' });
  assert.deepEqual(cache.objectives, { rtoSeconds: 7200, rpoSeconds: 3600 });
  assert.deepEqual(cache.systems, { database: { tier: 'critical', rtoSeconds: 7200, rpoSeconds: 900 }, cache: { tier: 'critical', rtoSeconds: 7200, rpoSeconds: 3600 }, files: { tier: 'supporting', rtoSeconds: 14_400, rpoSeconds: 3600 } });
  assert.deepEqual((await loadRunbookPlan({ scenario: 'files', environment: 'local' })).objectives, { rtoSeconds: 14_400, rpoSeconds: 1800 });
  assert.deepEqual((await loadRunbookPlan({ scenario: 'complete-system-failure', environment: 'local' })).objectives, { rtoSeconds: 14_400, rpoSeconds: 900 }, 'the slowest tier, the strictest RPO');
  assert.deepEqual((await loadRunbookPlan({ scenario: 'server-failure', environment: 'local' })).objectives, { rtoSeconds: 3600, rpoSeconds: 900 }, 'other scenarios keep the default');
});

test('recoverCache input: defaults, and each refusal names its field', () => {
  assert.deepEqual(recoverCacheInput.parse(base), { ...base, environment: 'local', mode: 'real', kind: 'rdb', cache: 'production', existing: 'keep', healthTimeoutSeconds: 120, handOver: false });
  assert.match(refusal(recoverCacheInput, { ...base, kind: 'snapshot' }), /^kind: must be "rdb"/);
  assert.match(refusal(recoverCacheInput, { ...base, backupId: 'rdb-1', asOf: '2026-11-23T03:00:00Z' }), /^asOf: give backupId or asOf, not both/);
  assert.match(refusal(recoverCacheInput, { ...base, kind: 'sessions', handOver: true }), /^handOver: a session restore writes into the running cache/);
  assert.match(refusal(recoverCacheInput, { ...base, cache: 'redis://:secret@host' }), /^cache: must be a config name/);
  assert.match(refusal(recoverCacheInput, { ...base, existing: 'merge' }), /^existing: must be "keep"/);
});

test('recoverFiles input: every configured kind by default; kinds, backups and times checked', () => {
  assert.deepEqual(recoverFilesInput.parse(base), { ...base, environment: 'local', mode: 'real', handOver: false });
  assert.match(refusal(recoverFilesInput, { ...base, archives: ['documents', 'documents'] }), /^archives: names an archive kind twice/);
  assert.match(refusal(recoverFilesInput, { ...base, archives: ['../etc'] }), /^archives\.0: must be an archive kind/);
  assert.match(refusal(recoverFilesInput, { ...base, archives: ['documents'], backupIds: { code: 'code-1' } }), /^backupIds: names an archive kind that is not in archives/);
  assert.match(refusal(recoverFilesInput, { ...base, asOf: 'yesterday' }), /^asOf: must be an ISO 8601 time/);
});

test('recoverFromCompleteSystemFailure input: the seed\'s parts by default; the standby, cache backup and archives checked', () => {
  const parsed = recoverFromCompleteSystemFailureInput.parse(base);
  assert.equal(parsed.database, 'production');
  assert.equal(parsed.cacheBackup, 'rdb');
  assert.equal(parsed.sessions, true);
  assert.equal(parsed.benchmarks, true);
  assert.match(refusal(recoverFromCompleteSystemFailureInput, { ...base, replica: 'production' }), /^replica: must be a standby/);
  assert.match(refusal(recoverFromCompleteSystemFailureInput, { ...base, checks: 1 }), /^checks: must be at least 2/);
  assert.match(refusal(recoverFromCompleteSystemFailureInput, { ...base, cacheBackup: 'sessions' }), /^cacheBackup: must be "rdb" or "aof"/);
  assert.match(refusal(recoverFromCompleteSystemFailureInput, { ...base, handOver: true }), /"handOver": is not a field of this input/);
});

test('the three runbooks are in the one scenario registry, so runDrill and dr start know them; their flags fill their fields', () => {
  assert.equal(scenarios.cache.workflowType, 'recoverCache');
  assert.equal(scenarios.files.workflowType, 'recoverFiles');
  assert.equal(scenarios['complete-system-failure'].workflowType, 'recoverFromCompleteSystemFailure');
  const flags = { incident: 'INC-9', as: 'carol' };
  assert.equal((buildScenarioInput(findScenario('cache')!, {}, { ...flags, kind: 'aof', backup: 'aof-0301' }) as { kind: string; backupId: string }).backupId, 'aof-0301');
  assert.deepEqual((buildScenarioInput(findScenario('files')!, {}, { ...flags, archives: 'documents, code' }) as { archives: string[] }).archives, ['documents', 'code']);
  assert.equal((buildScenarioInput(findScenario('complete-system-failure')!, {}, { ...flags, checks: '2', cacheBackup: 'aof' }) as { checks: number; cacheBackup: string }).checks, 2);
  assert.throws(() => buildScenarioInput(findScenario('cache')!, {}, { ...flags, kind: 'snapshot' }), /kind \(--kind\): must be "rdb"/);
});

test('session keys are credentials: masked to their literal prefix and a digest; other keys stay readable', () => {
  const sessions = { pattern: 'session:*' };
  const masked = maskKeys('db0 key "session:9f8e7d" is missing', sessions);
  assert.match(masked, /^db0 key "session:…[0-9a-f]{8}" is missing$/);
  assert.doesNotMatch(masked, /9f8e7d/);
  assert.equal(maskKeys('key "session:9f8e7d"', sessions), maskKeys('key "session:9f8e7d"', sessions), 'the same key masks the same way, so lines can be compared');
  assert.equal(maskKeys('db0 key "user:7:profile" has a different value', sessions), 'db0 key "user:7:profile" has a different value');
  assert.ok(globToRegExp('session:*').test('session:abc'));
  assert.ok(globToRegExp('sess[io]on:?').test('session:x'));
  assert.ok(!globToRegExp('session:?').test('session:xy'));
  assert.ok(globToRegExp('a.b\\*').test('a.b*') && !globToRegExp('a.b\\*').test('aXb*'));
});

test('a cache instance id is the same for the same workflow and step, at most 40 characters, valid for ElastiCache', () => {
  const id = cacheInstanceIdFor('complete-system-failure-INC-2041-5e1b7c2a-cache', 'restore-rdb');
  assert.equal(id, cacheInstanceIdFor('complete-system-failure-INC-2041-5e1b7c2a-cache', 'restore-rdb'));
  assert.notEqual(id, cacheInstanceIdFor('complete-system-failure-INC-2041-5e1b7c2a-cache', 'restore-aof'));
  assert.ok(id.length <= 40 && /^[a-z][a-z0-9-]*[a-z0-9]$/.test(id) && !id.includes('--'), id);
});

test('the application\'s cache connection is a redis URL with its password escaped (written into its secret only)', () => {
  assert.equal(redisUrlOf({ host: '127.0.0.1', port: 6380, tls: false, password: 'p@ss/w:rd' }), 'redis://:p%40ss%2Fw%3Ard@127.0.0.1:6380/0');
  assert.equal(redisUrlOf({ host: 'master.x.cache.amazonaws.com', port: 6379, tls: true, username: 'app', password: 't' }), 'rediss://app:t@master.x.cache.amazonaws.com:6379/0');
});

test('pgbench and redis-benchmark output parsed into figures; output without them is an error that quotes it', () => {
  const pgbench = 'transaction type: balance-lookup.sql\nscaling factor: 1\nnumber of clients: 2\nnumber of transactions actually processed: 18734\nlatency average = 0.213 ms\ninitial connection time = 4.1 ms\ntps = 9366.85 (without initial connection time)\n';
  assert.deepEqual(parsePgbench(pgbench), { tps: 9366.85, latencyMs: 0.213, transactions: 18734 });
  assert.throws(() => parsePgbench('connection to server failed'), /pgbench printed no tps\/latency line: connection to server failed/);
  const csv = '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"\n"PING_MBULK","33898.30","0.099","0.008","0.039","0.311","1.775","4.711"\n"GET","27027.03","0.139","0.008","0.039","0.239","3.039","7.103"\n';
  assert.deepEqual(parseRedisBenchmarkCsv(csv), [{ command: 'PING_MBULK', rps: 33898.3, p50Ms: 0.039, p99Ms: 1.775 }, { command: 'GET', rps: 27027.03, p50Ms: 0.039, p99Ms: 3.039 }]);
  assert.throws(() => parseRedisBenchmarkCsv('NOAUTH Authentication required.'), /no CSV header/);
});

test('the application\'s checks in seed 002\'s three groups; a group the application does not answer is a failure', () => {
  const checks = [
    { name: 'integrity totals', passed: true, detail: 'users 60' },
    { name: 'connectivity: database', passed: true, detail: 'db answers' },
    { name: 'connectivity: cache', passed: false, detail: 'cache down' },
    { name: 'data integrity', passed: true, detail: 'balances match' },
  ];
  const grouped = groupApplicationChecks(checks, '2026-11-23T03:00:00Z');
  assert.equal(grouped.passed, false);
  assert.deepEqual(grouped.groups.map((g) => [g.group, g.passed, g.checks.length]), [['connectivity', false, 2], ['data integrity', true, 2], ['functionality', false, 1]]);
  assert.equal(grouped.groups[2]!.checks[0]!.detail, 'the application reports no such check');
});

const result: RunbookResult = {
  workflowId: 'wf-1', scenario: 'complete-system-failure', mode: 'drill', environment: 'local', incidentId: 'DRILL-1', startedBy: 'carol', phase: 'finished',
  timeline: [], openGates: [], gates: [], compensations: [], verdict: 'completed',
  rto: { objectiveSeconds: 14_400, declaredAt: '2026-11-23T03:00:00.000Z', cutoverVerifiedAt: '2026-11-23T03:10:00.000Z', elapsedSeconds: 600, withinObjective: true },
  rpo: { objectiveSeconds: 900, achievedSeconds: 12, withinObjective: true },
};

test('the report has one section per recovered system, with its tier and its RTO and RPO against it', () => {
  const systems = [
    { system: 'database', tier: 'critical', recovered: 'backup set L1 into db-1', rto: { achievedSeconds: 600, objectiveSeconds: 7200, withinObjective: true }, rpo: { achievedSeconds: 12, objectiveSeconds: 900, withinObjective: true }, lines: ['15 checks passed'] },
    { system: 'files', tier: 'supporting', recovered: 'documents from d-1', rto: { objectiveSeconds: 14_400 }, rpo: { achievedSeconds: 5400, objectiveSeconds: 3600, withinObjective: false }, lines: [] },
  ];
  const { markdown, json } = renderRunbookReport(result, reportExtrasFromOutput({ systems }));
  assert.deepEqual(json.systems, systems);
  assert.match(markdown, /## Recovered systems\n\n### database \(tier: critical\)\n\n- Recovered: backup set L1 into db-1\n- RTO: 10 min \(objective: 2 h\) ✅\n- RPO: 12 s \(objective: 15 min\) ✅\n- 15 checks passed/);
  assert.match(markdown, /### files \(tier: supporting\)\n\n- Recovered: documents from d-1\n- RTO: not measured \(objective: 4 h\) ⚠️ not measured\n- RPO: 1 h 30 min \(objective: 1 h\) ❌/);
  assert.deepEqual(reportExtrasFromOutput({ systems: [{ system: 1 }] }), {}, 'another shape is ignored');
  assert.throws(() => renderRunbookReport(result, { systems: [{ system: 'cache', recovered: 'redis://:hunter2@10.0.0.5:6379/0', lines: [] }] }), SecretInReportError);
});
