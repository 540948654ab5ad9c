import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Pool } from 'pg';
import { createActivities } from '../../activities';
import { installAuditSchema } from '../../activities/audit';
import { loadWorkerConfig } from '../../worker/config';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dr-audit-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, extra: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `databases:\n  production: { port: 5432, database: mita, user: app, passwordSecret: production-db-password }\n  audit: { port: 5432, database: dr_audit, user: dr_audit_writer, passwordSecret: audit-db-password }\n${extra}`);
  return file;
}

test('a config without `audit` still loads (the key is optional)', () => {
  assert.equal(loadWorkerConfig(configFile('plain.yaml', '')).audit, undefined);
});

test('`audit.database` names a configured database', () => {
  assert.deepEqual(loadWorkerConfig(configFile('audit.yaml', 'audit: { database: audit }\n')).audit, { database: 'audit' });
});

test('`audit.database` that is not in databases is refused, naming the field and the known names', () => {
  assert.throws(() => loadWorkerConfig(configFile('unknown.yaml', 'audit: { database: dr_audit }\n')), /audit\.database: "dr_audit" is not in databases \(known: production, audit\)/);
  assert.throws(() => loadWorkerConfig(configFile('extra.yaml', 'audit: { database: audit, table: x }\n')), /audit: Unrecognized key: "table"/);
});

test('the audit activities are registered only when an audit database is configured', async () => {
  const pools: Pool[] = [];
  const databases = { pool: async (name: string) => { assert.equal(name, 'audit'); const pool = new Pool({ port: 1 }); pools.push(pool); return pool; }, connection: async (name: string): Promise<never> => { throw new Error(`no connection ${name} in this test`); } };
  try {
    const without = createActivities({ databases });
    assert.ok(!('appendAuditEntries' in without) && !('verifyAuditChain' in without));
    const withAudit = createActivities({ databases, auditDatabase: 'audit' });
    assert.equal(typeof withAudit.appendAuditEntries, 'function');
    assert.equal(typeof withAudit.verifyAuditChain, 'function');
    assert.equal(typeof withAudit.checkDatabaseHealth, 'function');
  } finally {
    await Promise.all(pools.map((p) => p.end()));
  }
});

test('installAuditSchema refuses a role name that is not a plain identifier, before touching the database', async () => {
  let queries = 0;
  const admin = { query: async () => { queries++; return { rows: [], rowCount: 0 }; } } as never;
  await assert.rejects(installAuditSchema(admin, { writerRole: 'writer"; DROP TABLE x; --' }), /^Error: writerRole: .* is not a plain role name/);
  await assert.rejects(installAuditSchema(admin, { writerRole: 'Writer' }), /writerRole: "Writer" is not a plain role name/);
  assert.equal(queries, 0);
});
