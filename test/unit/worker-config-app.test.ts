import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadWorkerConfig } from '../../worker/config';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dr-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const databases = 'databases:\n  production: { port: 5432, database: mita, user: app, passwordSecret: pw }\n';
const load = (text: string) => {
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, text);
  return loadWorkerConfig(file);
};

test('app and dns are optional: a config without them still loads', () => {
  const config = load(databases);
  assert.equal(config.app, undefined);
  assert.equal(config.dns, undefined);
});

test('app and dns paths are resolved against the config file, with defaults', () => {
  const config = load(databases + 'app:\n  envFile: app/financial.env\n  port: 8080\n  databaseRole: mita_app\ndns:\n  mappingFile: dns.json\n');
  assert.deepEqual(config.app, { envFile: path.join(dir, 'app', 'financial.env'), port: 8080, databaseRole: 'mita_app' });
  assert.deepEqual(config.dns, { mappingFile: path.join(dir, 'dns.json'), defaultTtlSeconds: 30 });
});

test('a bad app or dns key is refused naming the field', () => {
  assert.throws(() => load(databases + 'app:\n  envFile: a.env\n  port: 99999\n  databaseRole: mita_app\n'), /app\.port: /);
  assert.throws(() => load(databases + 'app:\n  envFile: a.env\n  port: 8080\n'), /app\.databaseRole: is required: the PostgreSQL role the application signs in as/);
  assert.throws(() => load(databases + 'dns:\n  mappingFile: d.json\n  ttl: 5\n'), /dns: Unrecognized key: "ttl"/);
});

test("the application's declaration to the validation gate loads from YAML with its defaults, and a bad one is refused naming the field", async () => {
  const YAML = (await import('yaml')).default;
  const { financialApplication } = await import('../../demo/financial-application');
  const config = load(databases + YAML.stringify({ application: financialApplication }));
  assert.equal(config.application?.tables.transactions?.appendOnly, true);
  assert.equal(config.application?.tables.users?.appendOnly, false);
  assert.deepEqual(config.application?.businessKeys, [{ table: 'transactions', columns: ['reference'] }]);
  assert.equal(load(databases).application, undefined, 'optional: without it the gate runs what the catalog tells it');
  const minimal = load(databases + 'application:\n  tables:\n    ledger: { key: id }\n');
  assert.deepEqual([minimal.application?.clockSkew, minimal.application?.longestTransaction, minimal.application?.tolerance], ['30 seconds', '1 minute', {}]);
  assert.throws(() => load(databases + 'application:\n  tables:\n    ledger: { key: id, appendOnly: true }\n'), /application\.tables\.ledger\.createdAt: is required for an append-only table/);
  assert.throws(() => load(databases + 'application:\n  tables:\n    ledger: { key: id }\n  clockSkew: soon\n'), /application\.clockSkew: must be a duration/);
  assert.throws(() => load(databases + 'application:\n  tables:\n    ledger: { key: id, mony: [amount] }\n'), /application\.tables\.ledger: Unrecognized key: "mony"/);
});
