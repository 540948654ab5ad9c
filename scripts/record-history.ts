// Records the histories the replay tests replay (test/unit/runbook-replay.test.ts, scenario-replay.test.ts):
//   node --import tsx scripts/record-history.ts              the fixture runbook's histories, in today's shape
//   node --import tsx scripts/record-history.ts --server-failure-cutover <file>
//                                                            recoverFromServerFailure through its cutover (a
//                                                            scenario history), with scripted activities
//   node --import tsx scripts/record-history.ts --region-outage-failover <file>
//                                                            recoverFromRegionOutage through a real failover
//                                                            (promotion, dns-failover gate, the switch)
//   npm run demo -- --once --record-history <file>           the demo's drill (a scenario history)
// A scenario history is named after the patches its run passed (all but batched-audit, which every shape
// since has), e.g. scenarios/server-failure-cutover-vote-proofs-operator-notices-validation-baseline-
// rotate-and-roll-out.json; the replay tests check those markers.
// Run it only when a change to the runbook engine is MEANT to change its history (then say so in the
// commit, and keep the older recordings: runs of the older shape may still be in flight). A replay
// failure otherwise means the change breaks runbooks already in flight.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { writeFileAtomic } from '../lib/atomic-file';
import { temporalBinary } from '../stack/paths';
import { startTemporalServer } from '../stack/temporal-server';
import type { RunbookPlan } from '../contracts/runbook-plan';
import { Worker } from '@temporalio/worker';
import { createUsedCodesInMemory } from '../activities/vote-codes';
import { createVoteProofActivities, defaultTotpSecretName } from '../activities/vote-proofs';
import { signVote } from '../client/vote-signing';
import { secretStoreFor } from '../worker/adapters';
import { generateTotpSecret, totpCode } from '../lib/totp';
import { alertSignal } from '../workflows/alert-notes';
import { abortSignal, abortUpdate, approveSignal, approveUpdate, rejectUpdate } from '../workflows/messages';
import { cutoverGate, fixtureActivities, fixtureInput, fixturePlan, gateOpen, newRecorder, startFixture, waitForStatus, withFixtureWorker } from '../test/support/fixture-runbook';
import { serverFailureFakes } from '../test/support/server-failure-fakes';
import { regionOutageFakes } from '../test/support/region-outage-fakes';
import { quietTemporalLogs } from '../test/support/quiet-logs';
import { makeSshKey } from '../test/support/ssh-keys';

const repoRoot = path.resolve(__dirname, '..');
export const historiesDir = path.join(repoRoot, 'test', 'fixtures', 'histories');
/**
 * Where the fixture runbook's histories of today's shape go: votes and aborts decided in their handlers
 * with their proofs checked by an activity, every refusal recorded (patched 'vote-proofs'), people kept
 * current: status updates, gate decisions (patched 'operator-notices'), and the audit trail's batches and
 * the report written by local activities (patched 'local-bookkeeping'), and the closing notification sent
 * locally in the run's last workflow task (patched 'local-end-notice', checked at the end), all of it
 * asked with one marker (patched 'shape-in-one-marker'). The older shapes stay beside it
 * (histories/*.json, batched-audit/, vote-proofs/, operator-notices/, vote-proofs-and-notices/,
 * local-bookkeeping/ and local-end-notice/).
 * The later patches ('validation-baseline', 'rotate-and-roll-out') are in the scenarios' validation gate
 * and cutover, which the fixture runbook never reaches: its shape is unchanged by them.
 */
export const currentShapeDir = path.join(historiesDir, 'shape-in-one-marker');

/**
 * Writes a workflow's history in the standard JSON format, as the CLI writes it (the SDK's
 * historyToJSON trips over a protobufjs version clash in this install).
 */
export function exportHistory(server: { address: string; namespace: string }, workflowId: string, file: string): number {
  const shown = execFileSync(temporalBinary(), ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', server.address, '--namespace', server.namespace], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  // Stack traces of recorded failures name this checkout: the committed history names none (replay never reads them).
  const json = JSON.parse(shown.split(JSON.stringify(repoRoot).slice(1, -1)).join('/dr-runbooks')) as { events: unknown[] };
  writeFileAtomic(file, JSON.stringify(json, null, 2) + '\n', 0o644);
  return json.events.length;
}

/** One scenario run with scripted activities, its gate approved by Update, recorded to `file`. */
async function recordScenario(file: string, run: { workflowType: string; workflowId: string; activities: object; args: object; gate: string; comment: string }): Promise<void> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'dr-record-history-'));
  const server = await startTemporalServer({ stateDir });
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address, namespace: server.namespace });
  try {
    const taskQueue = `record-${run.workflowId}`;
    const worker = await Worker.create({ connection: env.nativeConnection, namespace: server.namespace, taskQueue, workflowsPath: require.resolve('../workflows'), activities: run.activities });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(run.workflowType, { taskQueue, workflowId: run.workflowId, args: [run.args] });
      await waitForStatus(handle, gateOpen(run.gate), `${run.gate} gate open`);
      await handle.executeUpdate(approveUpdate, { args: [{ gate: run.gate, approver: 'bob', comment: run.comment }] });
      await handle.result();
      console.log(`recorded ${path.relative(process.cwd(), file)} (${exportHistory(server, handle.workflowId, file)} events)`);
    });
  } finally {
    await env.teardown();
    await server.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/**
 * recoverFromServerFailure with scripted activities: the primary fails two checks, no standby, the latest
 * backup is restored, the cutover gate approved by Update, the application cut over. The cutover's steps
 * are what a change to the cutover must keep replaying.
 */
function recordServerFailureCutover(file: string): Promise<void> {
  return recordScenario(file, {
    workflowType: 'recoverFromServerFailure',
    workflowId: 'server-failure-cutover-recording',
    activities: serverFailureFakes({ probes: [false, false] }).activities,
    args: { incidentId: 'INC-REC-1', startedBy: 'alice', declaredAt: '2026-11-23T03:00:00Z', checks: 2, checkIntervalSeconds: 1, checkTimeoutSeconds: 1 },
    gate: 'cutover',
    comment: 'restored instance validated',
  });
}

/**
 * recoverFromRegionOutage with scripted activities, a real failover: the primary does not answer, the
 * cross-region replica is promoted and validated, the standby application scaled up, the dns-failover
 * gate approved by Update, the name switched and the application seen answering through it.
 */
function recordRegionOutageFailover(file: string): Promise<void> {
  return recordScenario(file, {
    workflowType: 'recoverFromRegionOutage',
    workflowId: 'region-outage-failover-recording',
    activities: regionOutageFakes({ primaryAnswers: false }).activities,
    args: { incidentId: 'INC-REC-2', startedBy: 'alice', declaredAt: '2026-11-23T03:00:00Z', replica: 'dr-replica', standbyReplicas: 2 },
    gate: 'dns-failover',
    comment: 'promoted replica validated',
  });
}

async function main(): Promise<void> {
  quietTemporalLogs();
  const cutoverAt = process.argv.indexOf('--server-failure-cutover');
  if (cutoverAt > 0) return recordServerFailureCutover(path.resolve(process.argv[cutoverAt + 1] ?? 'server-failure-cutover.json'));
  const regionAt = process.argv.indexOf('--region-outage-failover');
  if (regionAt > 0) return recordRegionOutageFailover(path.resolve(process.argv[regionAt + 1] ?? 'region-outage-failover.json'));
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'dr-record-history-'));
  const server = await startTemporalServer({ stateDir });
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address, namespace: server.namespace });
  try {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const scripts: Record<string, (handle: Awaited<ReturnType<typeof startFixture>>) => Promise<void>> = {
      // Quorum of two: one approval by Update, a refused Signal (the starter), one approval by Signal.
      'fixture-runbook-approved': async (handle) => {
        await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'alice', comment: 'validation green' }] });
        await handle.signal(approveSignal, { gate: 'cutover', approver: 'carol' });
        await handle.signal(approveSignal, { gate: 'cutover', approver: 'bob' });
      },
      // One rejection closes the gate; the compensations run newest first.
      'fixture-runbook-rejected': async (handle) => {
        await handle.executeUpdate(rejectUpdate, { args: [{ gate: 'cutover', approver: 'dave', comment: 'row counts differ' }] });
      },
      // Aborted while waiting at the gate.
      'fixture-runbook-aborted': async (handle) => {
        await handle.signal(abortSignal, { by: 'alice', reason: 'wrong incident' });
      },
      // Status updates every second while the gate waits (two of them), the alert receiver's notes
      // (one resolved, one refused), then the quorum.
      'fixture-runbook-status-updates': async (handle) => {
        await sleep(2500);
        await handle.signal(alertSignal, { status: 'resolved', alertname: 'DatabaseConnectionFailure', labels: { alertname: 'DatabaseConnectionFailure', database: 'production', environment: 'local' }, startsAt: '2026-11-23T03:00:00Z', endsAt: '2026-11-23T03:09:00Z' });
        await handle.signal(alertSignal, { status: 'resolved', alertname: 'x', labels: { token: 'postgres://u:p@h/db' } } as never);
        await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'alice', comment: 'validation green' }] });
        await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob' }] });
      },
    };
    // Votes with proofs (ephemeral keys and a TOTP secret, made for this recording): an SSH-signed approval
    // by Update, a vote by name refused by Signal, a one-time code by Signal, a forged abort refused.
    const keys = makeSshKey(stateDir, 'alice', 'ed25519');
    writeFileAtomic(path.join(stateDir, 'allowed_signers'), `alice ${keys.publicLine}\n`);
    const totp = generateTotpSecret();
    writeFileAtomic(path.join(stateDir, 'secrets', defaultTotpSecretName('bob')), `${totp}\n`);
    const proofs = createVoteProofActivities({ allowedSignersFile: path.join(stateDir, 'allowed_signers'), secrets: secretStoreFor({ secretsDir: path.join(stateDir, 'secrets') }), totpSecretName: defaultTotpSecretName, usedCodes: createUsedCodesInMemory(), maxClockSkewMs: 300_000 });
    const provenPlan = fixturePlan({ cutover: cutoverGate({ authentication: 'ssh-or-totp' }) }, { commanders: ['alice', 'bob', 'dave'], authentication: 'ssh-or-totp' });
    scripts['fixture-runbook-proven'] = async (handle) => {
      const runId = (await handle.describe()).runId;
      const statement = { namespace: server.namespace, workflowId: handle.workflowId, runId, gate: 'cutover', decision: 'approve' as const, by: 'alice', comment: 'validation green' };
      await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'alice', comment: 'validation green', ...(await signVote(statement, keys.privateFile)) }] });
      await handle.signal(approveSignal, { gate: 'cutover', approver: 'dave' });
      await handle.executeUpdate(abortUpdate, { args: [{ by: 'dave', reason: 'forged' }] }).catch(() => undefined);
      await handle.signal(approveSignal, { gate: 'cutover', approver: 'bob', code: totpCode(totp, Date.now()) });
    };
    const plans: Record<string, RunbookPlan> = { 'fixture-runbook-status-updates': { ...fixturePlan(), statusUpdateEveryMs: 1000 } };
    for (const [name, script] of Object.entries(scripts)) {
      const activities = name === 'fixture-runbook-proven' ? { ...fixtureActivities(newRecorder(), { plan: provenPlan }), ...proofs } : fixtureActivities(newRecorder(), { plan: plans[name] });
      await withFixtureWorker(env.nativeConnection, server.namespace, activities, async (taskQueue) => {
        const handle = await startFixture(env.client, taskQueue, fixtureInput({ declaredAt: '2026-11-23T03:00:00Z' }), `${name}-recording`);
        await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
        await script(handle);
        await handle.result();
        const file = path.join(currentShapeDir, `${name}.json`);
        const events = exportHistory(server, handle.workflowId, file);
        console.log(`recorded ${path.relative(process.cwd(), file)} (${events} events)`);
      });
    }
  } finally {
    await env.teardown();
    await server.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
