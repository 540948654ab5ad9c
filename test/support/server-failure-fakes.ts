import { ApplicationFailure } from '@temporalio/common';
import { replicaLagOf } from '../../contracts/replica-lag';
import { cutoverGate, fixtureActivities, newRecorder } from './fixture-runbook';
import { passingGateFakes } from './gate-fakes';

// Fake activities for the server-failure runbook: a script of what the primary, the standby and the
// rollouts answer, and the calls the runbook made, in order. The unit tests of its decisions and the
// recorder of its histories (scripts/record-history.ts) use them.

export interface ServerFailureScript {
  /** One entry per probe of the primary: true = it answers. */
  probes: boolean[];
  standby?: { accepting: boolean; newestCommitSecondsBeforeFailure?: number; lagBytes?: number };
  /** One entry per rollout the runbook waits for: true = every replica becomes available. Default: all succeed. */
  rollouts?: boolean[];
}

export function serverFailureFakes(script: ServerFailureScript) {
  const calls: string[] = [];
  const rec = newRecorder();
  let probe = 0;
  let rollout = 0;
  const runtime = { application: 'deployment/mita-backend', connection: 'Secret mita-production/mita-db-config', restart: 'rollout restart deployment/mita-backend', rolloutStatus: 'rollout status deployment/mita-backend' };
  let firstFailureAt = '';
  const instance = (instanceId: string, role: 'primary' | 'replica' = 'primary') => ({
    instanceId, role, status: 'available', acceptingConnections: true, endpoint: { host: '127.0.0.1', port: 6000, database: 'mita' }, origin: { kind: 'enrolled' }, protected: false, createdAt: new Date().toISOString(),
  });
  const activities = {
    // The input's targets are checked by the real activity elsewhere (runbook-targets.test.ts).
    async checkRunbookTargets() {
      return { checked: [] };
    },
    ...fixtureActivities(rec, { plan: { scenario: 'server-failure', environment: 'local', gates: { cutover: cutoverGate({ approvers: ['alice', 'bob'], quorum: 1 }) }, drill: { autoApprove: true }, objectives: { rtoSeconds: 3600, rpoSeconds: 900 } } }),
    async probeDatabase(input: { database: string }) {
      const reachable = script.probes[probe++] ?? true;
      const checkedAt = new Date().toISOString();
      if (!reachable && !firstFailureAt) firstFailureAt = checkedAt;
      calls.push(`probe ${input.database} ${reachable ? 'up' : 'down'}`);
      return { database: input.database, reachable, checkedAt, responseMs: 1, ...(reachable ? {} : { error: 'connection refused' }) };
    },
    async describeDatabaseInstance(input: { instanceId: string }) {
      calls.push(`describe ${input.instanceId}`);
      const s = script.standby!;
      return { ...instance(input.instanceId, 'replica'), acceptingConnections: s.accepting, replication: { sourceInstanceId: 'production', lag: replicaLagOf(s.lagBytes ?? -1), lagSeconds: 0, streaming: false } };
    },
    async readNewestCommit(input: { database: string }) {
      calls.push(`newest ${input.database}`);
      const seconds = input.database === 'standby' ? script.standby?.newestCommitSecondsBeforeFailure : 2;
      return { database: input.database, inRecovery: false, ...(seconds === undefined ? {} : { newestCommitAt: new Date(Date.parse(firstFailureAt || new Date().toISOString()) - seconds * 1000).toISOString() }) };
    },
    async promoteReplica(input: { instanceId: string }) {
      calls.push(`promote ${input.instanceId}`);
      return instance(input.instanceId);
    },
    async createReplica(input: { step: string }) {
      calls.push(`create replica ${input.step}`);
      return { instance: instance(`replica-${input.step}`, 'replica'), backupLabel: 'B1', reused: false };
    },
    async listDatabaseBackups() {
      calls.push('list backups');
      return [{ label: 'B1', stoppedAt: '2026-11-23T02:00:00Z' }];
    },
    async restoreToPointInTime(input: { step: string }) {
      calls.push(`restore ${input.step}`);
      return { instance: instance(`restored-${input.step}`), backupLabel: 'B1', reused: false, target: { kind: 'latest' }, recoveredTo: { lsn: '0/1' } };
    },
    ...passingGateFakes(calls),
    async deleteDatabaseInstance(input: { instanceId: string }) {
      calls.push(`delete ${input.instanceId}`);
      return { deleted: true };
    },
    async rotateDatabaseSecret(input: { database: string }) {
      calls.push(`rotate on ${input.database}`);
      return { database: input.database, role: 'mita_app', endpoint: '127.0.0.1:6000/mita', secret: { name: 'app-database-connection', version: '4' }, previous: { name: 'app-database-connection', version: '3' }, rotatedAt: new Date().toISOString(), reused: false };
    },
    async pointAppAtDatabase(input: { database: string; secret?: { version: string } }) {
      calls.push(`point app at ${input.database}${input.secret ? ` (version ${input.secret.version})` : ''}`);
      return { changed: true, current: { endpoint: '127.0.0.1:6000/mita', secret: input.secret }, previous: { endpoint: '127.0.0.1:5432/mita', name: 'production' }, runtime };
    },
    async restorePreviousAppConnection(input: { rotation: { previous: { version: string } }; database?: string }) {
      calls.push(`put back version ${input.rotation.previous.version} (${input.database})`);
      return { changed: true, current: { endpoint: '127.0.0.1:5432/mita', secret: input.rotation.previous }, previous: null, runtime };
    },
    async restartApp() {
      calls.push('restart app');
      return { restartedAt: new Date().toISOString(), stopped: ['revision 1 (3 replicas)'], started: ['rollout of deployment/mita-backend, generation 2'] };
    },
    async waitForAppRollout() {
      const ok = script.rollouts?.[rollout++] ?? true;
      calls.push(`rollout ${ok ? 'done' : 'stuck'}`);
      if (!ok) throw ApplicationFailure.nonRetryable('deployment "mita-backend" exceeded its progress deadline: ReplicaSet "mita-backend-5d8f" has timed out progressing.', 'RolloutFailed');
      return { application: 'deployment/mita-backend', desired: 3, updated: 3, available: 3, message: 'deployment "mita-backend" successfully rolled out' };
    },
    async revokeOldDatabaseCredential(input: { rotation: { database: string } }) {
      calls.push(`revoke on ${input.rotation.database}`);
      return { database: input.rotation.database, role: 'mita_app', sessionsEnded: 0, oldPassword: 'refused', newPassword: 'accepted', detail: 'old password of mita_app refused, new one accepted, 0 older session(s) ended' };
    },
    async waitUntilAppHealthy(input: { database: string }) {
      calls.push(`app healthy on ${input.database}`);
      return { database: { address: '127.0.0.1:6000' } };
    },
  };
  return { calls, activities };
}
