import { ApplicationFailure } from '@temporalio/workflow';
import { z } from 'zod';
import { configName, isoInstant, runbookFields } from '../contracts/inputs';
import { judgeReplicaLag, replicaLagOf, type ReplicaLag } from '../contracts/replica-lag';
import { runRunbook } from './runbook';
import { cutOverApplication, longOperation, validateRecoveredDatabase, validationOperation, type ScenarioRunbook } from './scenario-steps';
import { handOverField } from './recovered-systems';
import { FailureType } from '../contracts/failure-types';
import { countPassed, describeFailedChecks } from '../contracts/validation';

export const recoverFromServerFailureInput = z
  .strictObject({
    ...runbookFields,
    database: configName.default('production').describe('the primary that stopped answering, by its name in the worker config (and platform instance id)'),
    replica: configName.optional().describe('the standby to promote, by its platform instance id; without one (or when it lags more than the RPO), the latest backup is restored'),
    checks: z.number({ error: 'must be a whole number of checks, e.g. 3' }).int('must be a whole number of checks, e.g. 3').min(2, 'must be at least 2: one failed ping does not confirm a server failure').max(60, 'must be at most 60').default(3).describe('consecutive failed checks that confirm the failure'),
    checkIntervalSeconds: z.number({ error: 'must be a number of seconds, e.g. 20' }).min(1, 'must be at least 1 second').max(600, 'must be at most 600 seconds').default(20).describe('time between two checks'),
    checkTimeoutSeconds: z.number({ error: 'must be a number of seconds, e.g. 5' }).min(1, 'must be at least 1 second').max(60, 'must be at most 60 seconds').default(5).describe('how long one check waits for an answer'),
    failedAt: isoInstant.optional().describe('when monitoring first saw the primary fail; the RPO is measured against it (default: the first failed check)'),
    handOver: handOverField,
  })
  .refine((i) => i.replica === undefined || i.replica !== i.database, { path: ['replica'], message: 'must be a standby, not the failed primary itself' });
export type RecoverFromServerFailureInput = z.input<typeof recoverFromServerFailureInput>;
type ServerFailureRunbook = ScenarioRunbook<z.output<typeof recoverFromServerFailureInput>>;

const probeOptions = (timeoutSeconds: number) => ({ startToCloseTimeout: `${timeoutSeconds + 10} seconds`, retry: { maximumAttempts: 2, initialInterval: '1 second' } }) as const;
const quickRead = { startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3, initialInterval: '1 second' } } as const;

/**
 * Confirms the failure over a window: `checks` probes `checkIntervalSeconds` apart, each a short
 * activity that answers reachable/unreachable. In a real run the first answer ends the window (a
 * healthy primary is never failed over); a drill runs the whole window against a healthy primary and
 * treats its end as the simulated failure.
 */
async function confirmFailure(rb: ServerFailureRunbook) {
  const { database, checks, checkIntervalSeconds, checkTimeoutSeconds } = rb.input;
  const failures: string[] = [];
  let answeredAt: string | undefined;
  let lastCheckAt = '';
  for (let i = 1; i <= checks; i++) {
    if (i > 1) await rb.sleep(checkIntervalSeconds * 1000, `check interval: ${checkIntervalSeconds} s before check ${i} of ${checks}`);
    const probe = await rb.step({
      name: `check ${i} of ${checks}: is ${database} answering?`,
      activity: 'probeDatabase',
      args: [{ database, timeoutSeconds: checkTimeoutSeconds }],
      affectsProduction: false,
      options: probeOptions(checkTimeoutSeconds),
      describe: (p) => (p.reachable ? `answered in ${p.responseMs} ms` : `unreachable after ${p.responseMs} ms: ${p.error}`),
    });
    lastCheckAt = probe.checkedAt;
    if (probe.reachable) {
      answeredAt ??= probe.checkedAt;
      if (rb.mode === 'real') return { confirmed: false, answeredAt, answeredCheck: i, failures, lastCheckAt };
    } else {
      failures.push(probe.checkedAt);
    }
  }
  return { confirmed: failures.length === checks, answeredAt, answeredCheck: undefined, failures, lastCheckAt };
}

/**
 * Database server failure (seed 000 scenario 2, seed 001 database failover): confirm the primary is
 * down over a window → if the standby's lag is within the RPO objective, promote it, else restore the
 * latest backup (and the archived WAL) into a new instance → validate → approve `cutover` → point the
 * application at it, restart, wait until healthy → post-recovery checks; RPO = failure time minus the
 * newest commit the recovered database holds.
 *
 * A drill never touches the real standby or the application: it builds its own replica of production
 * (or its own restore), promotes and validates that, measures RTO and RPO, and removes it.
 */
export async function recoverFromServerFailure(input: RecoverFromServerFailureInput) {
  const targets = (i: z.output<typeof recoverFromServerFailureInput>) => ({ databases: [{ field: 'database', name: i.database }], ...(i.replica ? { instances: [{ field: 'replica', instanceId: i.replica }] } : {}) });
  return runRunbook({ scenario: 'server-failure', input: recoverFromServerFailureInput, gates: ['cutover'], targets }, input, async (rb: ServerFailureRunbook) => {
    const { database, replica } = rb.input;
    const drill = rb.mode === 'drill';

    const window = await confirmFailure(rb);
    if (!drill && !window.confirmed) {
      return {
        failover: false as const,
        finding: `${database} answered check ${window.answeredCheck} of ${rb.input.checks} at ${window.answeredAt}: the failure is not confirmed, so nothing was promoted, restored or switched (a healthy primary is never failed over)`,
      };
    }
    const failedAt: string = rb.input.failedAt ?? (drill ? window.lastCheckAt : window.failures[0] ?? window.lastCheckAt);
    const rpoObjectiveSeconds = rb.status().rpo.objectiveSeconds;

    // Which way: the standby if it holds everything up to within the RPO of the failure, else the backups.
    let standbyDecision = replica ? '' : 'no standby named';
    let promoteStandby = false;
    if (replica) {
      const standby = await rb.step({
        name: `assess the standby ${replica}`,
        activity: 'describeDatabaseInstance',
        args: [{ instanceId: replica }],
        affectsProduction: false,
        options: quickRead,
        describe: (d) => `${d.role}, ${d.status}, ${d.acceptingConnections ? 'accepting connections' : 'NOT accepting connections'}${d.replication ? `, streaming ${d.replication.streaming}` : ''}`,
      });
      // A lag recorded before it was typed is a number of bytes (-1: the primary did not answer).
      const recorded = standby.replication as (typeof standby.replication & { lagBytes?: number }) | undefined;
      const standbyLag: ReplicaLag = recorded ? replicaLagOf(recorded.lag ?? recorded.lagBytes) : { state: 'unknown', reason: `${replica} reports no replication` };
      const judge = (newest?: string) => judgeReplicaLag({ lag: standbyLag, newestReplayedCommitAt: newest, at: failedAt, primary: database });
      // The platform reached the primary to measure the standby's lag: it is not down after all (a
      // network path, not the server, failed). Promoting now would make two primaries.
      if (!drill && recorded && judge().primaryAnswered) {
        return {
          failover: false as const,
          finding: `${database} failed ${window.failures.length} checks, but it answered the platform while the standby ${replica} was assessed: the server is up (check the network path from the workers), so nothing was promoted, restored or switched`,
        };
      }
      if (!standby.acceptingConnections || standby.role !== 'replica') {
        standbyDecision = `standby ${replica} is ${standby.acceptingConnections ? `a ${standby.role}, not a replica` : 'not accepting connections'}`;
      } else {
        // Caught up: the primary answered the platform and the standby has replayed all of it (a drill).
        // Otherwise the primary is gone and the standby lacks at most what was committed after its newest commit.
        const caughtUp = standbyLag.state === 'caught-up';
        const lagOf = (newest?: string) => judge(newest).lossSeconds;
        const position = await rb.step({
          name: `measure the lag of ${replica} against the failure at ${failedAt}`,
          activity: 'readNewestCommit',
          args: [{ database: replica }],
          affectsProduction: false,
          options: quickRead,
          describe: (p) => {
            const lag = lagOf(p.newestCommitAt);
            if (lag === undefined) return 'no replayed commit: its lag is unknown';
            return `${caughtUp ? 'caught up with a reachable primary' : `newest replayed commit ${p.newestCommitAt}`}: lag ${lag} s against an RPO objective of ${rpoObjectiveSeconds} s`;
          },
        });
        const lag = lagOf(position.newestCommitAt);
        promoteStandby = lag !== undefined && lag <= rpoObjectiveSeconds;
        standbyDecision = lag === undefined ? `standby ${replica} has replayed no commit, its lag is unknown` : `standby ${replica} lags ${lag} s (RPO objective ${rpoObjectiveSeconds} s)`;
      }
    }

    let recovered: string;
    let path: 'promoted-standby' | 'restored-backup';
    if (promoteStandby && !drill) {
      // The seed promotes the standby without a person (a Lambda after 5 minutes of failed checks): the
      // primary is confirmed down, and the approval gates the application's cutover, which comes after.
      const promoted = await rb.step({
        name: `promote the standby ${replica}`,
        activity: 'promoteReplica',
        args: [{ instanceId: replica! }],
        affectsProduction: false,
        options: longOperation,
        describe: (d) => `${d.instanceId} is a writable ${d.role} on timeline ${d.timeline ?? '?'} (it no longer follows ${database})`,
      });
      recovered = promoted.instanceId;
      path = 'promoted-standby';
    } else if (promoteStandby) {
      const built = await rb.step({
        name: `drill: build a replica of ${database} to promote (the real standby ${replica} is not touched)`,
        activity: 'createReplica',
        args: [{ database, step: 'drill-replica', incidentId: rb.input.incidentId }],
        affectsProduction: false,
        options: longOperation,
        builds: { name: 'delete the drill replica the build makes', activity: 'deleteDatabaseInstance', args: [{ step: 'drill-replica' }] },
        describe: (r) => `${r.instance.instanceId} on port ${r.instance.endpoint.port}, from backup set ${r.backupLabel}, streaming`,
        compensate: (r) => ({ name: `delete the drill replica ${r.instance.instanceId}`, activity: 'deleteDatabaseInstance', args: [{ instanceId: r.instance.instanceId }] }),
      });
      recovered = built.instance.instanceId;
      await rb.step({ name: `drill: promote ${recovered}`, activity: 'promoteReplica', args: [{ instanceId: recovered }], affectsProduction: false, options: longOperation, describe: (d) => `a writable ${d.role} on timeline ${d.timeline ?? '?'}` });
      path = 'promoted-standby';
    } else {
      const backups = await rb.step({
        name: `find the latest backup of ${database} (${standbyDecision})`,
        activity: 'listDatabaseBackups',
        args: [{ database }],
        affectsProduction: false,
        options: quickRead,
        describe: (b) => (b.length ? `${b.length} backup set(s); latest ${b.at(-1)!.label}, finished ${b.at(-1)!.stoppedAt}` : 'no backup set'),
      });
      if (backups.length === 0) {
        throw ApplicationFailure.create({ type: FailureType.NoBackup, nonRetryable: true, message: `${database} has no backup to restore and ${standbyDecision}: escalate (nothing was built)` });
      }
      // The latest backup plus every archived WAL segment after it: the most a restore can get back.
      const restored = await rb.step({
        name: `restore the latest backup (${backups.at(-1)!.label}) and the archived WAL of ${database} into a new instance`,
        activity: 'restoreToPointInTime',
        args: [{ database, step: 'restore-latest', incidentId: rb.input.incidentId, target: { kind: 'latest' } }],
        affectsProduction: false,
        options: longOperation,
        builds: { name: 'delete the instance the restore builds', activity: 'deleteDatabaseInstance', args: [{ step: 'restore-latest' }] },
        describe: (r) => `${r.instance.instanceId} on port ${r.instance.endpoint.port}, from ${r.backupLabel}, recovered to ${r.recoveredTo.lastCommitAt ?? 'no commit after the backup'}`,
        compensate: (r) => ({ name: `delete the restored instance ${r.instance.instanceId}`, activity: 'deleteDatabaseInstance', args: [{ instanceId: r.instance.instanceId }] }),
      });
      recovered = restored.instance.instanceId;
      path = 'restored-backup';
    }

    const newest = await rb.step({
      name: `read the newest commit ${recovered} holds`,
      activity: 'readNewestCommit',
      args: [{ database: recovered }],
      affectsProduction: false,
      options: quickRead,
      describe: (p) => p.newestCommitAt ?? 'no commit recorded',
    });
    if (newest.newestCommitAt) rb.recordRecoveryPoint(newest.newestCommitAt, failedAt);
    const validationOptions = { incidentTime: failedAt, rpoSeconds: Math.max(1, Math.round(rpoObjectiveSeconds)) };
    const validation = await validateRecoveredDatabase(rb, recovered, validationOptions);
    // One part of a complete system recovery: its parent gates and cuts over everything at once.
    if (rb.input.handOver) {
      return { failover: true as const, path, recoveredInstance: recovered, failedAt, standbyDecision, confirmedBy: window.failures, validation: validation.summary, readyAt: new Date().toISOString(), handedOver: rb.handOver() };
    }

    await rb.gate('cutover');
    const summary = { failover: true as const, path, recoveredInstance: recovered, failedAt, standbyDecision, confirmedBy: window.failures, validation: validation.summary };
    if (drill) {
      rb.cutoverVerified();
      return { ...summary, application: `drill: the application and ${replica ? `the standby ${replica}` : 'production'} untouched; ${recovered} is removed` };
    }
    const cutover = await cutOverApplication(rb, recovered);

    const after = await rb.step({
      name: `post-recovery checks on ${recovered} (the application runs on it)`,
      activity: 'runValidationChecks',
      args: [{ database: recovered, ...validationOptions }],
      affectsProduction: false,
      options: validationOperation,
      describe: countPassed,
    });
    if (!after.passed) {
      throw ApplicationFailure.create({
        type: FailureType.ValidationFailed,
        nonRetryable: true,
        message: `the application runs on ${recovered} but its post-recovery checks failed: ${describeFailedChecks(after)}`,
        details: [after],
      });
    }
    return { ...summary, application: cutover.health.database.address, postRecovery: after.summary };
  });
}
