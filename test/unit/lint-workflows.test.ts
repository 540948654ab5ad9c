import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';

// The lint rule is what keeps workflows deterministic before replay ever would: check it bites.
const root = path.resolve(__dirname, '..', '..');
const eslint = new ESLint({ cwd: root });

async function restrictedImportMessages(code: string, file = 'workflows/x.ts'): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return result!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

async function allMessages(code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, 'workflows/x.ts') });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('workflow import rule', () => {
  const refused: Array<[string, RegExp]> = [
    ["import fs from 'node:fs';\nexport const f = fs;", /Node built-ins/],
    ["import fs from 'fs';\nexport const f = fs;", /Node built-ins/],
    ["import { randomUUID } from 'node:crypto';\nexport const f = randomUUID;", /Node built-ins/],
    ["import { Pool } from 'pg';\nexport const f = Pool;", /never talk to PostgreSQL/],
    ["import { RDSClient } from '@aws-sdk/client-rds';\nexport const f = RDSClient;", /never call AWS/],
    ["import { KubeConfig } from '@kubernetes/client-node';\nexport const f = KubeConfig;", /never talk to Kubernetes/],
    ["import { createActivities } from '../activities';\nexport const f = createActivities;", /import type/],
    ["import { createAuditActivities } from '../activities/audit';\nexport const f = createAuditActivities;", /import type/],
  ];
  for (const [code, message] of refused) {
    test(`refuses ${code.split('\n')[0]}`, async () => {
      const messages = await restrictedImportMessages(code);
      // node:* is caught twice (by name and by pattern); one message must say why.
      assert.ok(messages.some((m) => message.test(m)), `expected a restricted-import error matching ${message}, got ${JSON.stringify(messages)}`);
    });
  }

  test('accepts type-only imports of activities and the workflow SDK', async () => {
    const code = [
      "import type { Activities } from '../activities';",
      "import type { AuditEntry } from '../activities/audit';",
      "import { proxyActivities } from '@temporalio/workflow';",
      "export const activities = proxyActivities<Activities>({ startToCloseTimeout: '1 minute' });",
      'export type Entry = AuditEntry;',
      '',
    ].join('\n');
    assert.deepEqual(await allMessages(code), []);
  });

  test('applies to workflows/ only: activities may import pg and Node built-ins', async () => {
    assert.deepEqual(await restrictedImportMessages("import { Pool } from 'pg';\nimport fs from 'node:fs';\nexport const f = [Pool, fs];", 'activities/x.ts'), []);
  });
});
