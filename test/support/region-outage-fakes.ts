import { replicaLagOf } from '../../contracts/replica-lag';
import { cutoverGate, fixtureActivities, newRecorder } from './fixture-runbook';
import { passingGateFakes } from './gate-fakes';

// Fake activities for the region-outage runbook: a script of what the primary, the DNS record and the DR
// replica answer, and the calls the runbook made, in order. The unit tests of its decisions and the
// recorder of its histories (scripts/record-history.ts) use them.

export interface RegionOutageScript {
  /** Whether the primary in the failed region still answers. */
  primaryAnswers: boolean;
  /** Where the database name points now; null: no record. Default db-primary:5432. */
  dnsTarget?: string | null;
  /** What the DR replica replicates; default production (the database the runbook fails over). */
  replicaOf?: string | null;
  /** The promoted instance's role; default primary. */
  promotedRole?: 'primary' | 'replica';
}

export function regionOutageFakes(script: RegionOutageScript) {
  const calls: string[] = [];
  const rec = newRecorder();
  const now = () => new Date().toISOString();
  const instance = (instanceId: string, role: 'primary' | 'replica', origin: object) => ({
    instanceId, role, status: 'available', acceptingConnections: true, endpoint: { host: '10.1.0.7', port: 5432, database: 'mita' }, origin, protected: false, createdAt: now(),
  });
  const replicaOf = script.replicaOf === undefined ? 'production' : script.replicaOf;
  const activities = {
    // The input's targets are checked by the real activity elsewhere (runbook-targets.test.ts).
    async checkRunbookTargets() {
      return { checked: [] };
    },
    ...fixtureActivities(rec, {
      plan: { scenario: 'region-outage', environment: 'local', gates: { 'dns-failover': cutoverGate({ approvers: ['alice', 'bob'], quorum: 1 }) }, drill: { autoApprove: true }, objectives: { rtoSeconds: 3600, rpoSeconds: 900 } },
    }),
    async probeDatabase(input: { database: string }) {
      calls.push(`probe ${input.database} ${script.primaryAnswers ? 'up' : 'down'}`);
      return { database: input.database, reachable: script.primaryAnswers, checkedAt: now(), responseMs: 3, ...(script.primaryAnswers ? {} : { error: 'timeout expired' }) };
    },
    async describeDnsTarget(input: { name: string }) {
      calls.push(`describe dns ${input.name}`);
      const target = script.dnsTarget === undefined ? 'db-primary:5432' : script.dnsTarget;
      return target === null ? null : { name: input.name, target, ttlSeconds: 60 };
    },
    async waitUntilDatabaseAvailable(input: { instanceId: string }) {
      calls.push(`available ${input.instanceId}`);
      return instance(input.instanceId, 'replica', replicaOf === null ? { kind: 'enrolled' } : { kind: 'replica', sourceInstanceId: replicaOf });
    },
    async measureReplicaLag(input: { instanceId: string }) {
      calls.push(`lag of ${input.instanceId}`);
      const checkedAt = now();
      return {
        instanceId: input.instanceId, inRecovery: true, streaming: false, checkedAt, newestReplayedCommitAt: new Date(Date.parse(checkedAt) - 4000).toISOString(),
        receiveLsn: '0/3000060', replayLsn: '0/3000060', unreplayedBytes: 0, lag: replicaLagOf(-1),
        recoveryPoint: { newestCommittedAt: new Date(Date.parse(checkedAt) - 4000).toISOString(), basis: 'newest replayed commit (the primary does not answer)' },
      };
    },
    async promoteReplica(input: { instanceId: string }) {
      calls.push(`promote ${input.instanceId}`);
      return { ...instance(input.instanceId, script.promotedRole ?? 'primary', { kind: 'enrolled' }), timeline: 2 };
    },
    async createReplica(input: { database: string; step: string }) {
      calls.push(`create replica of ${input.database}`);
      return { instance: instance(`drill-replica-${input.step}`, 'replica', { kind: 'replica', sourceInstanceId: input.database }), backupLabel: 'B1', reused: false };
    },
    async deleteDatabaseInstance(input: { instanceId?: string; step?: string }) {
      calls.push(`delete ${input.instanceId ?? `build of ${input.step}`}`);
      return { deleted: true };
    },
    ...passingGateFakes(calls),
    async scaleApp(input: { replicas: number }) {
      calls.push(`scale app to ${input.replicas}`);
      return { replicas: input.replicas };
    },
    async switchDnsTarget(input: { name: string; target: string; ttlSeconds?: number }) {
      calls.push(`switch ${input.name} to ${input.target}`);
      const switchedAt = now();
      return { name: input.name, previousTarget: 'db-primary:5432', target: input.target, ttlSeconds: input.ttlSeconds ?? 60, switchedAt, effectiveBy: new Date(Date.parse(switchedAt) + 60_000).toISOString(), changed: true };
    },
    async waitUntilAppHealthy(input: { database: string; standby?: boolean }) {
      calls.push(`app healthy on ${input.database}${input.standby ? ' (standby)' : ''}`);
      return { database: { address: '10.1.0.7:5432' }, checks: [] };
    },
    async checkDatabaseHealth(input: { database: string }) {
      calls.push(`health of ${input.database}`);
      return { database: input.database, userCount: 3, transactionCount: 12, totalAmount: '1042.17' };
    },
  };
  return { calls, activities, recorder: rec };
}
