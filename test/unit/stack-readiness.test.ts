import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createStackReadinessActivities, type StackReadinessWiring } from '../../activities/readiness/stack-readiness';
import type { StackReadiness } from '../../contracts/stack-readiness';
import { noOperationsMetrics } from '../../activities/ports/operations-metrics';

// The lines no database is needed for: secrets, approvers' proofs, drill schedules, the object store.
// (The database lines run on a real PostgreSQL: test/integration/stack-readiness.test.ts.)
const dir = mkdtempSync(path.join(os.tmpdir(), 'dr-stack-readiness-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const signers = path.join(dir, 'allowed_signers');
writeFileSync(signers, '# approvers\nalice,al ssh-ed25519 AAAA...\n');
const secrets: Record<string, string> = { 'slack-webhook': 'https://hooks.slack.test/x', 'totp-bob': 'JBSWY3DPEHPK3PXP', empty: ' \n' };

function wiring(over: Partial<StackReadinessWiring> = {}): StackReadinessWiring {
  return {
    environment: 'test', databases: [], backupMaxAgeSeconds: 900, rpoSeconds: 900,
    connections: {} as never, platform: {} as never, metrics: noOperationsMetrics,
    objectStore: { list: async () => [], put: async () => undefined, get: async () => undefined } as never,
    secrets: { read: async (name: string) => { if (secrets[name as string] === undefined) throw new Error(`no secret "${name}"`); return { name, value: secrets[name as string]!, version: '1' }; } } as never,
    secretNames: ['slack-webhook', 'pagerduty-key', 'empty'],
    gates: [
      { gate: 'cutover', approvers: ['alice', 'bob'], authentication: 'ssh-or-totp' },
      { gate: 'repair', approvers: ['bob'], authentication: 'ssh' },
      { gate: 'rollback', approvers: ['carol'], authentication: 'none' },
    ],
    allowedSignersFile: signers,
    totpSecretName: (a) => `totp-${a}`,
    drillSchedules: async () => [{ scheduleId: 'dr-drill-server-failure', paused: true, note: 'drill failed', lastRun: 'drill-server-failure-1' }, { scheduleId: 'dr-drill-cache', paused: false }],
    ...over,
  };
}

const assess = (w: StackReadinessWiring) => new MockActivityEnvironment().run(() => createStackReadinessActivities(w).assessStackReadiness()) as Promise<StackReadiness>;
const line = (r: StackReadiness, check: string, subject: string) => r.lines.find((l) => l.check === check && l.subject === subject);

test('each failing line names its check, what it checked and what to do; a vote needing no proof is a warning', async () => {
  const r = await assess(wiring());
  assert.equal(r.ready, false);
  assert.equal(line(r, 'secrets', 'slack-webhook')?.passed, true);
  assert.match(line(r, 'secrets', 'pagerduty-key')!.detail, /^secret "pagerduty-key" does not resolve: no secret "pagerduty-key"/);
  assert.equal(line(r, 'secrets', 'empty')?.passed, false, 'an empty secret does not resolve to anything usable');
  assert.equal(line(r, 'approvers', 'cutover')?.passed, true, 'alice by her key, bob by his code');
  assert.match(line(r, 'approvers', 'repair')!.detail, /^gate repair: bob cannot prove a vote: each needs a key in approvals\.allowedSigners/);
  assert.deepEqual({ passed: line(r, 'approvers', 'rollback')?.passed, warning: line(r, 'approvers', 'rollback')?.warning }, { passed: true, warning: true });
  assert.match(line(r, 'drill-schedules', 'dr-drill-server-failure')!.detail, /is paused \(drill failed\); its last drill was drill-server-failure-1: .*dr drills unpause/);
  assert.equal(line(r, 'drill-schedules', 'dr-drill-cache')?.passed, true);
  assert.equal(line(r, 'reachability', 'object store')?.passed, true);
  for (const l of r.lines) assert.doesNotMatch(l.detail, /hooks\.slack\.test|JBSWY3DP/, 'no secret value in the report');
});

test('an object store or a schedule list that does not answer fails its line instead of the run', async () => {
  const r = await assess(wiring({
    secretNames: [], gates: [],
    objectStore: { list: async () => { throw new Error('ENOENT: no such directory'); } } as never,
    drillSchedules: async () => { throw new Error('PermissionDenied'); },
  }));
  assert.deepEqual(r.lines.map((l) => `${l.check}:${l.passed}`), ['reachability:false', 'drill-schedules:false']);
  assert.match(r.lines[1]!.detail, /cannot be listed: PermissionDenied/);
});
