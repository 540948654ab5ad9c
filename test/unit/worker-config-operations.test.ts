import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { workerConfigSchema } from '../../worker/config';
import { monitoringSettings } from '../../worker/metrics';

// The config keys of monitoring and alert-triggered runbooks: metrics (the worker's /metrics and what it
// measures), alerts (the Alertmanager receiver and what each alert starts), messages.statusUpdateEvery.
const base = {
  databases: {
    production: { port: 5432, database: 'mita', user: 'app', passwordSecret: 'pw' },
    audit: { port: 5433, database: 'dr_audit', user: 'dr_audit_writer', passwordSecret: 'audit-pw' },
  },
  audit: { database: 'audit' },
};
const parse = (extra: Record<string, unknown>) => workerConfigSchema.parse({ ...base, ...extra });
const problems = (extra: Record<string, unknown>) => {
  const parsed = workerConfigSchema.safeParse({ ...base, ...extra });
  assert.ok(!parsed.success, 'the config should be refused');
  return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('metrics config', () => {
  test('defaults: every 15 s, integrity every 5 min, backups every minute; every database but the audit one; the RPO as the backup objective', () => {
    const config = parse({ metrics: { listen: '127.0.0.1:9464' } });
    assert.deepEqual(config.metrics, { listen: '127.0.0.1:9464', interval: '15 seconds', timeout: '5 seconds', integrityInterval: '5 minutes', backupInterval: '1 minute', replicas: [] });
    assert.deepEqual(monitoringSettings(config), { databases: ['production'], probeTimeoutMs: 5000, integrityTimeoutMs: 60000, backupMaxAgeSeconds: 900, rpoObjectiveSeconds: 900, replicas: [] });
    const daily = parse({ metrics: { listen: '0.0.0.0:9464', backupMaxAge: '26 hours', replicas: [{ replica: 'mita-dr-replica', database: 'production' }] } });
    assert.equal(monitoringSettings(daily).backupMaxAgeSeconds, 93600);
    assert.deepEqual(monitoringSettings(parse({})).databases, [], 'no metrics, nothing watched');
  });

  test('a bad listen address, an unknown database or interval is refused, naming the field', () => {
    assert.deepEqual(problems({ metrics: { listen: '9464' } }), ['metrics.listen: must be host:port, e.g. 127.0.0.1:9464']);
    assert.deepEqual(problems({ metrics: { listen: '127.0.0.1:70000' } }), ['metrics.listen: the port must be 1-65535']);
    assert.deepEqual(problems({ metrics: { listen: '127.0.0.1:9464', databases: ['prod'] } }), ['metrics.databases.0: "prod" is not in databases (known: production, audit)']);
    assert.deepEqual(problems({ metrics: { listen: '127.0.0.1:9464', replicas: [{ replica: 'standby', database: 'primary' }] } }), ['metrics.replicas.0.database: "primary" is not in databases (known: production, audit)']);
    assert.match(problems({ metrics: { listen: '127.0.0.1:9464', interval: 'often' } })[0]!, /^metrics\.interval: must be a duration/);
  });
});

describe('alerts config', () => {
  test('defaults: the seed\'s two database alerts, DatabaseConnectionFailure → server-failure, DataCorruptionDetected → assess and page; no receiver', () => {
    const config = parse({});
    assert.equal(config.alerts.receiver, undefined);
    assert.deepEqual(config.alerts.runbooks, {
      DatabaseConnectionFailure: { start: 'server-failure', labels: { database: 'database' }, input: {}, page: false },
      DataCorruptionDetected: { start: 'assess', labels: { database: 'database' }, input: {}, page: true },
    });
  });

  test('the receiver authenticates Alertmanager with a bearer token or basic auth, from secrets; its identity starts the runbooks', () => {
    assert.deepEqual(parse({ alerts: { receiver: { listen: '0.0.0.0:9095', auth: { bearerTokenSecret: 'alertmanager-token' } } } }).alerts.receiver, { listen: '0.0.0.0:9095', auth: { bearerTokenSecret: 'alertmanager-token' }, identity: 'alertmanager' });
    assert.deepEqual(parse({ alerts: { receiver: { listen: '127.0.0.1:9095', auth: { basicAuth: { username: 'am', passwordSecret: 'am-pw' } }, identity: 'alertmanager-eu' } } }).alerts.receiver?.auth, { basicAuth: { username: 'am', passwordSecret: 'am-pw' } });
    assert.deepEqual(problems({ alerts: { receiver: { listen: '127.0.0.1:9095' } } }), ['alerts.receiver.auth: must be { bearerTokenSecret: <secret> } or { basicAuth: { username, passwordSecret } }']);
    assert.deepEqual(problems({ alerts: { receiver: { listen: '127.0.0.1:9095', auth: { bearerToken: 's3cret' } } } }), ['alerts.receiver.auth: must be { bearerTokenSecret: <secret> } or { basicAuth: { username, passwordSecret } }'], 'a token value in the file is not a secret name');
  });

  test('a mapping names something startable (never a drill), labels by their Prometheus names', () => {
    const config = parse({ alerts: { runbooks: { PrimaryDown: { start: 'server-failure', labels: { database: 'database' }, input: { replica: 'standby', checks: 5 } } } } });
    assert.deepEqual(config.alerts.runbooks.PrimaryDown, { start: 'server-failure', labels: { database: 'database' }, input: { replica: 'standby', checks: 5 }, page: false });
    assert.match(problems({ alerts: { runbooks: { PrimaryDown: { start: 'drill' } } } })[0]!, /^alerts\.runbooks\.PrimaryDown\.start: must be one of: assess, accidental-deletion, region-outage, failed-migration, server-failure, cache, files, complete-system-failure, backup$/);
    assert.match(problems({ alerts: { runbooks: { 'primary-down': { start: 'assess' } } } })[0]!, /^alerts\.runbooks\.primary-down: "primary-down" is not an alert name/);
    assert.match(problems({ alerts: { runbooks: { PrimaryDown: { start: 'assess', labels: { database: 'data-base' } } } } })[0]!, /^alerts\.runbooks\.PrimaryDown\.labels\.database: a Prometheus label name/);
  });
});

test('messages.statusUpdateEvery: the seed\'s 30 minutes by default; less than a second is refused', () => {
  assert.equal(parse({}).messages.statusUpdateEvery, '30 minutes');
  assert.equal(parse({ messages: { statusUpdateEvery: '15 minutes' } }).messages.statusUpdateEvery, '15 minutes');
  assert.deepEqual(problems({ messages: { statusUpdateEvery: '100ms' } }), ['messages.statusUpdateEvery: must be at least 1 second']);
});
