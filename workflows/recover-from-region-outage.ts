import { z } from 'zod';
import { ApplicationFailure, patched } from '@temporalio/workflow';
import type { ReplicaLagMeasurement } from '../activities';
import { bytesBehind, replicaLagOf } from '../contracts/replica-lag';
import { runbookFields, configName } from '../contracts/inputs';
import { runRunbook } from './runbook';
import { reconciliationReport } from '../contracts/validation';
import { assessDatabase, describeAppChecks, longOperation, reviewOf, validateRecoveredDatabase, type ScenarioRunbook } from './scenario-steps';
import { FailureType } from '../contracts/failure-types';

const dnsName = z.string().trim().toLowerCase().regex(/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, 'must be a DNS name, e.g. db.mita.internal');

export const recoverFromRegionOutageInput = z.strictObject({
  ...runbookFields,
  database: configName.optional().describe('the primary database in the failed region, by its name in the worker config (default production)'),
  /** The older name of `database` (runs started before the vocabulary was one). */
  primary: configName.optional().describe('older name of database'),
  replica: configName.optional().describe('the cross-region read replica to promote, by its platform instance id (e.g. dr-replica); required unless mode is drill'),
  dnsName: dnsName.default('db.mita.internal').describe('the name the application resolves its database through'),
  dnsTtlSeconds: z.number().int().min(1, 'must be at least 1 second').max(86_400, 'must be at most 86400 seconds (a day)').optional().describe('TTL of the switched record (default: the DNS config\'s)'),
  standbyReplicas: z.number().int().min(1, 'must be at least 1 (the standby application must run to take traffic)').max(100, 'must be at most 100').default(1).describe('application replicas to run in the DR region'),
  failOverWhilePrimaryAnswers: z.boolean().default(false).describe('fail over even though the primary still answers (two writable primaries: fence the old one first)'),
  healthTimeoutSeconds: z.number().int().min(10, 'must be at least 10 seconds').max(3600, 'must be at most 3600 seconds').default(120).describe('how long to wait, after the DNS TTL, for the application to answer from the promoted instance'),
}).transform(({ primary, ...input }) => ({ ...input, database: input.database ?? primary ?? 'production' })).superRefine((input, ctx) => {
  if (input.mode === 'real' && input.replica === undefined) ctx.addIssue({ code: 'custom', path: ['replica'], message: 'is required: the platform instance id of the cross-region replica to promote (e.g. dr-replica)' });
  if (input.replica !== undefined && input.replica === input.database) ctx.addIssue({ code: 'custom', path: ['replica'], message: `must not be the primary (${input.database}): name its cross-region replica` });
});
export type RecoverFromRegionOutageInput = z.input<typeof recoverFromRegionOutageInput>;
type RegionOutageRunbook = ScenarioRunbook<z.output<typeof recoverFromRegionOutageInput>>;

/** The health check after the switch asks the standby copy the runbook scaled up, not the lost region's. */
export const STANDBY_HEALTH_PATCH = 'standby-health';

const quickRead = { startToCloseTimeout: '1 minute', retry: { initialInterval: '1 second', maximumAttempts: 3 } } as const;

/** A measurement recorded before the lag was typed carried bytesBehindPrimary (null: the primary did not answer). */
type RecordedMeasurement = ReplicaLagMeasurement | (Omit<ReplicaLagMeasurement, 'lag'> & { bytesBehindPrimary: number | null });

function describeLag(lag: RecordedMeasurement): string {
  const typed = replicaLagOf('lag' in lag ? lag.lag : (lag.bytesBehindPrimary ?? -1));
  const behind = typed.state === 'unknown' ? 'primary not answering' : `${bytesBehind(typed)} bytes behind the primary`;
  const point = lag.recoveryPoint ? `recovery point ${lag.recoveryPoint.newestCommittedAt} (${lag.recoveryPoint.basis})` : 'no commit replayed yet: recovery point unknown';
  return `${lag.inRecovery ? (lag.streaming ? 'streaming' : 'not streaming') : 'already promoted'}, ${behind}, ${lag.unreplayedBytes} bytes received not yet replayed; ${point}`;
}

/** The replica's lag, measured before promotion: the RPO a failover now achieves. */
async function measureLag(rb: RegionOutageRunbook, instanceId: string) {
  const lag = await rb.step({
    name: `measure the replication lag of ${instanceId} (RPO)`,
    activity: 'measureReplicaLag',
    args: [{ instanceId, database: rb.input.database }],
    affectsProduction: false,
    options: quickRead,
    describe: describeLag,
  });
  if (lag.recoveryPoint) rb.recordRecoveryPoint(lag.recoveryPoint.newestCommittedAt, lag.checkedAt);
  return lag;
}

async function promote(rb: RegionOutageRunbook, instanceId: string) {
  const promoted = await rb.step({
    name: `promote ${instanceId} to a writable primary`,
    activity: 'promoteReplica',
    args: [{ instanceId }],
    affectsProduction: false,
    options: longOperation,
    describe: (d) => `${d.role} on timeline ${d.timeline ?? '?'}, ${d.endpoint.host}:${d.endpoint.port}`,
  });
  if (promoted.role !== 'primary' || !promoted.acceptingConnections) {
    throw ApplicationFailure.create({ type: FailureType.PromotionFailed, nonRetryable: true, message: `${instanceId} is ${promoted.role}${promoted.acceptingConnections ? '' : ', not accepting connections'} after promotion: it cannot take writes` });
  }
  return promoted;
}

/**
 * Region outage (seed 001, manual failover): assess (the primary must not answer; the DR replica and
 * the DNS record must exist) → measure the replica's lag (the RPO) → promote the cross-region replica →
 * validate it → scale up the standby application → approve `dns-failover` → switch the database name
 * to the promoted instance → verify the application answers through the name from it → report.
 *
 * A drill builds its own replica of the primary and promotes that; the DR replica, DNS and the
 * application are not touched, and the drill replica is always deleted.
 */
export async function recoverFromRegionOutage(input: RecoverFromRegionOutageInput) {
  const targets = (i: z.output<typeof recoverFromRegionOutageInput>) => ({ databases: [{ field: 'database', name: i.database }], ...(i.replica ? { instances: [{ field: 'replica', instanceId: i.replica }] } : {}) });
  return runRunbook({ scenario: 'region-outage', input: recoverFromRegionOutageInput, gates: ['dns-failover'], targets }, input, async (rb: RegionOutageRunbook) => {
    const { database, dnsName } = rb.input;
    const probe = await rb.step({
      name: `assess the primary region: does ${database} answer?`,
      activity: 'probeDatabase',
      args: [{ database }],
      affectsProduction: false,
      options: quickRead,
      describe: (p) => `${database} ${p.reachable ? `answers (${p.responseMs} ms)` : `does not answer: ${p.error}`}`,
    });
    if (rb.mode === 'drill') return drill(rb);

    if (probe.reachable && !rb.input.failOverWhilePrimaryAnswers) {
      throw ApplicationFailure.create({
        type: FailureType.PrimaryStillAnswers,
        nonRetryable: true,
        message: `${database} still answers (in ${probe.responseMs} ms): failing over now would leave two writable primaries. Confirm the region is down (or fence ${database}), then start again, with failOverWhilePrimaryAnswers: true if it must be forced`,
      });
    }
    const replica = rb.input.replica!;
    const record = await rb.step({
      name: `assess DNS: where ${dnsName} points now`,
      activity: 'describeDnsTarget',
      args: [{ name: dnsName }],
      affectsProduction: false,
      options: quickRead,
      describe: (r) => (r ? `${r.name} → ${r.target} (TTL ${r.ttlSeconds} s)` : 'no record'),
    });
    if (!record) throw ApplicationFailure.create({ type: FailureType.DnsRecordMissing, nonRetryable: true, message: `dnsName: ${dnsName} has no DNS record, so switching it would not move the application; name the record the application resolves its database through` });
    const standby = await rb.step({
      name: `assess the DR replica ${replica}`,
      activity: 'waitUntilDatabaseAvailable',
      args: [{ instanceId: replica, timeoutSeconds: 120 }],
      affectsProduction: false,
      options: { startToCloseTimeout: '3 minutes', heartbeatTimeout: '30 seconds', retry: { maximumAttempts: 2 } },
      describe: (d) => `${d.role} (${d.origin.kind === 'replica' ? `replica of ${d.origin.sourceInstanceId}` : d.origin.kind}), ${d.endpoint.host}:${d.endpoint.port}`,
    });
    // The platform enrols a database's primary under the database's name: that is the instance it replicates.
    if (standby.origin.kind !== 'replica' || standby.origin.sourceInstanceId !== database) {
      throw ApplicationFailure.create({ type: FailureType.NotAReplica, nonRetryable: true, message: `replica: ${replica} is not a replica of ${database} (it is ${standby.origin.kind === 'replica' ? `a replica of ${standby.origin.sourceInstanceId}` : `a ${standby.role} (${standby.origin.kind})`})` });
    }
    const lag = await measureLag(rb, replica);
    const promoted = await promote(rb, replica);
    rb.leftAsItIsIfStopped(`${replica} was promoted: it is a standalone primary now and no longer replicates ${database}. DNS and the application were not moved; before the next failover, build a new cross-region replica (or re-enrol ${replica} as a replica of ${database}) once the primary region is back`);
    // Recent data is judged against the moment of the outage, not against however long the failover has taken since.
    const outageAt = rb.input.declaredAt ?? lag.checkedAt;
    const validation = await validateRecoveredDatabase(rb, replica, { incidentTime: outageAt, baselineOf: { database, at: outageAt } });
    const scaled = await rb.step({
      // The standby takes no traffic until its database name moves: starting it is not a production change.
      name: `scale up the standby application to ${rb.input.standbyReplicas}`,
      activity: 'scaleApp',
      args: [{ replicas: rb.input.standbyReplicas }],
      affectsProduction: false,
      options: { startToCloseTimeout: '2 minutes', retry: { initialInterval: '2 seconds', maximumAttempts: 3 } },
      describe: (r) => `${r.replicas} running`,
    });

    await rb.gate('dns-failover', { review: reviewOf(validation) });
    const target = `${promoted.endpoint.host}:${promoted.endpoint.port}`;
    const switched = await rb.step({
      name: `switch ${dnsName} to ${replica} (${target})`,
      activity: 'switchDnsTarget',
      args: [{ name: dnsName, target, ...(rb.input.dnsTtlSeconds !== undefined ? { ttlSeconds: rb.input.dnsTtlSeconds } : {}) }],
      affectsProduction: true,
      describe: (s) => (s.changed ? `${s.previousTarget ?? 'no record'} → ${s.target}, TTL ${s.ttlSeconds} s, every resolver by ${s.effectiveBy}` : `already ${s.target}`),
    });
    // Resolvers keep the old answer for the TTL: wait for the application to answer from the new instance, not for the switch.
    const timeoutSeconds = switched.ttlSeconds + rb.input.healthTimeoutSeconds;
    const health = await rb.step({
      name: `verify the application answers through ${dnsName} from ${replica}`,
      activity: 'waitUntilAppHealthy',
      args: [{ database: replica, timeoutSeconds, ...(patched(STANDBY_HEALTH_PATCH) ? { standby: true } : {}) }],
      affectsProduction: false,
      options: { startToCloseTimeout: `${timeoutSeconds + 30} seconds`, heartbeatTimeout: '10 seconds', retry: { maximumAttempts: 2 } },
      describe: (h) => `healthy, answering from ${h.database.address}: ${describeAppChecks(h)}`,
    });
    rb.cutoverVerified();
    const after = await assessDatabase(rb, replica, `post-failover checks on ${replica}`);
    return {
      promotedInstance: replica,
      endpoint: target,
      replicaLag: lag,
      validation: validation.summary,
      reconciliation: reconciliationReport(validation),
      application: { replicas: scaled.replicas, answeringFrom: health.database.address },
      dns: { name: switched.name, previousTarget: switched.previousTarget, target: switched.target, ttlSeconds: switched.ttlSeconds, effectiveBy: switched.effectiveBy },
      postFailover: { users: after.userCount, transactions: after.transactionCount, totalAmount: after.totalAmount },
    };
  });
}

/** The drill: the same promotion on an isolated replica of the primary; DR replica, DNS and app untouched. */
async function drill(rb: RegionOutageRunbook) {
  const { database, dnsName } = rb.input;
  const built = await rb.step({
    name: `drill: build an isolated replica of ${database}`,
    activity: 'createReplica',
    args: [{ database, step: 'drill-replica', incidentId: rb.input.incidentId }],
    affectsProduction: false,
    options: longOperation,
    builds: { name: 'delete the drill replica the build makes', activity: 'deleteDatabaseInstance', args: [{ step: 'drill-replica' }] },
    describe: (r) => `${r.instance.instanceId} on port ${r.instance.endpoint.port}, from backup ${r.backupLabel}`,
    compensate: (r) => ({ name: `delete the drill replica ${r.instance.instanceId}`, activity: 'deleteDatabaseInstance', args: [{ instanceId: r.instance.instanceId }] }),
  });
  const instanceId = built.instance.instanceId;
  const lag = await measureLag(rb, instanceId);
  const promoted = await promote(rb, instanceId);
  const validation = await validateRecoveredDatabase(rb, instanceId, { incidentTime: lag.checkedAt, baselineOf: { database, at: lag.checkedAt } });
  await rb.gate('dns-failover', { review: reviewOf(validation) });
  // A real failover would switch the name and wait for the application here; the drill checks the promoted instance itself.
  const after = await assessDatabase(rb, instanceId, `drill: post-failover checks on ${instanceId}`);
  rb.cutoverVerified();
  return {
    promotedInstance: instanceId,
    endpoint: `${promoted.endpoint.host}:${promoted.endpoint.port}`,
    replicaLag: lag,
    validation: validation.summary,
    reconciliation: reconciliationReport(validation),
    dns: `drill: ${dnsName} not switched`,
    application: 'drill: not scaled or repointed',
    postFailover: { users: after.userCount, transactions: after.transactionCount, totalAmount: after.totalAmount },
  };
}
