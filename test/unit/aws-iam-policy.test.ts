import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { iamActionFor } from '../../activities/adapters/aws/aws-errors';

// config/aws-iam-policy.json is the policy the README tells operators to give the worker: it must list
// exactly the actions the AWS adapters call, no fewer (a runbook fails at 3 a.m. on AccessDenied) and no more.
const root = path.resolve(__dirname, '..', '..');
const adaptersDir = path.join(root, 'activities', 'adapters', 'aws');
const services: Record<string, string> = { '@aws-sdk/client-rds': 'rds', '@aws-sdk/client-s3': 's3', '@aws-sdk/client-route-53': 'route53', '@aws-sdk/client-secrets-manager': 'secretsmanager', '@aws-sdk/client-elasticache': 'elasticache' };

/** Actions a call needs beside its own, because of a parameter the adapter passes. */
const alsoNeeded: Record<string, string[]> = {
  // Tags given to CreateDBSnapshot, RestoreDBInstance*, CreateDBInstanceReadReplica are authorised as AddTagsToResource.
  'rds:RestoreDBInstanceToPointInTime': ['rds:AddTagsToResource'],
  // GetObject with a VersionId.
  's3:GetObject': ['s3:GetObjectVersion'],
  // PutObject with ObjectLockMode and ObjectLockRetainUntilDate (evidence), SSE-KMS with the evidence key.
  's3:PutObject': ['s3:PutObjectRetention', 'kms:GenerateDataKey', 'kms:Decrypt'],
  // CreateSnapshot and CreateReplicationGroup with Tags (the cache platform's built-by, backup and source).
  'elasticache:CreateSnapshot': ['elasticache:AddTagsToResource'],
  'elasticache:CreateReplicationGroup': ['elasticache:AddTagsToResource'],
  // CreateSecret with Tags.
  'secretsmanager:CreateSecret': ['secretsmanager:TagResource'],
  // An encrypted read replica with the region's KmsKeyId.
  'rds:CreateDBInstanceReadReplica': ['kms:DescribeKey', 'kms:CreateGrant'],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sources(full) : name.endsWith('.ts') ? [full] : [];
  });
}

/** Every `new XCommand(` in the adapters, as the IAM action of its service. */
function calledActions(): Set<string> {
  const actions = new Set<string>();
  for (const file of sources(adaptersDir)) {
    const text = readFileSync(file, 'utf8');
    const serviceOf = new Map<string, string>();
    for (const match of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-[a-z0-9-]+)'/g)) {
      for (const name of match[1]!.split(',').map((n) => n.trim().replace(/^type\s+/, ''))) if (services[match[2]!]) serviceOf.set(name, services[match[2]!]!);
    }
    for (const match of text.matchAll(/new ([A-Za-z0-9]+Command)\(/g)) {
      const service = serviceOf.get(match[1]!);
      assert.ok(service, `${path.relative(root, file)}: ${match[1]} is not imported from an AWS SDK client this test knows`);
      const action = iamActionFor(service, match[1]!);
      actions.add(action);
      for (const extra of alsoNeeded[action] ?? []) actions.add(extra);
    }
  }
  return actions;
}

test('the IAM policy in config/ grants exactly the actions the AWS adapters call', () => {
  const policy = JSON.parse(readFileSync(path.join(root, 'config', 'aws-iam-policy.json'), 'utf8')) as { Statement: Array<{ Action: string | string[] }> };
  const granted = new Set(policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));
  const called = calledActions();
  assert.ok(called.has('rds:RestoreDBInstanceToPointInTime') && called.has('route53:ChangeResourceRecordSets'), 'the scan found the adapters');
  assert.deepEqual([...called].filter((a) => !granted.has(a)).sort(), [], 'called but not granted');
  assert.deepEqual([...granted].filter((a) => !called.has(a)).sort(), [], 'granted but never called');
  assert.ok(!granted.has('rds:*') && ![...granted].some((a) => a.endsWith('*')), 'no wildcard actions');
});

test('the policy deletes only what the runbooks built: DeleteDBInstance on instances is conditioned on the created-by tag', () => {
  const policy = JSON.parse(readFileSync(path.join(root, 'config', 'aws-iam-policy.json'), 'utf8')) as { Statement: Array<{ Action: string[]; Resource: string | string[]; Condition?: Record<string, Record<string, string>> }> };
  const deletes = policy.Statement.filter((s) => s.Action.includes('rds:DeleteDBInstance'));
  for (const statement of deletes) {
    const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
    if (resources.some((r) => r.includes(':db:'))) assert.equal(statement.Condition?.StringEquals?.['aws:ResourceTag/dr-runbooks:created-by'], 'dr-runbooks');
  }
  assert.ok(deletes.length > 0);
});

test("the README's IAM section shows the policy file as it is", () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### IAM permissions the worker needs'));
  const shown = /```json\n([\s\S]*?)```/.exec(section)?.[1];
  assert.equal(shown, readFileSync(path.join(root, 'config', 'aws-iam-policy.json'), 'utf8'));
});
