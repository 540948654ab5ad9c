import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import type { PoolClient } from 'pg';
import { Context } from '@temporalio/activity';
import type { VoteAuthentication } from '../../contracts/runbook-plan';
import type { ReadinessCheckName, StackReadiness, StackReadinessLine } from '../../contracts/stack-readiness';
import type { DatabaseConnections } from '../database-connections';
import { readOnly as readOnlyOn } from '../monitoring/read-only';
import { readWalArchiveState } from '../monitoring/wal-archive';
import type { DatabasePlatform } from '../ports/database-platform';
import type { ObjectStore } from '../ports/object-store';
import type { OperationsMetrics } from '../ports/operations-metrics';
import type { SecretStore } from '../ports/secret-store';
import { existingAncestor } from './index';

/** One gate's approvers and the proof their votes need, as the worker config resolves them. */
export interface GateApprovers {
  /** "cutover", or "server-failure/cutover" for a scenario's own gate. */
  gate: string;
  approvers: string[];
  authentication: VoteAuthentication;
}

/** A drill schedule as Temporal describes it. */
export interface DrillScheduleState {
  scheduleId: string;
  paused: boolean;
  note?: string;
  /** The last run's workflow id, when there was one. */
  lastRun?: string;
}

/**
 * What the whole stack's readiness is checked against, resolved from the worker config by the wiring
 * point: the application databases and their objectives, every secret the config names, every gate's
 * approvers, where the backup repository is. Names only; the secrets are read, never returned.
 */
export interface StackReadinessWiring {
  environment: string;
  databases: string[];
  connections: DatabaseConnections;
  platform: DatabasePlatform;
  objectStore: ObjectStore;
  secrets: SecretStore;
  metrics: OperationsMetrics;
  /** The newest good backup's objective (config metrics.backupMaxAge, default the RPO). */
  backupMaxAgeSeconds: number;
  rpoSeconds: number;
  /** The platform's backup repository on this machine (the local platform); none for a managed one. */
  repositoryPath?: string;
  /** Every secret the config names (notifier keys, receiver auth, payload and head keys, TOTP secrets). */
  secretNames: string[];
  gates: GateApprovers[];
  allowedSignersFile?: string;
  totpSecretName(approver: string): string;
  /** A backup set whose restore test failed (the monitoring's record). */
  failedItsTest?(database: string, label: string): boolean;
  /** The drill schedules; default: listed through the worker's Temporal client. */
  drillSchedules?(): Promise<DrillScheduleState[]>;
  timeoutMs?: number;
}

const errorOf = (error: unknown) => (error as Error).message.split('\n')[0]!;
const ageText = (seconds: number) => (!Number.isFinite(seconds) ? 'never' : seconds < 120 ? `${Math.round(seconds)} s` : seconds < 7200 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds / 360) / 10} h`);
const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;

async function drillSchedulesOfWorker(): Promise<DrillScheduleState[]> {
  const client = Context.current().client;
  const states: DrillScheduleState[] = [];
  for await (const summary of client.schedule.list()) {
    if (!summary.scheduleId.startsWith('dr-drill-')) continue;
    const d = await client.schedule.getHandle(summary.scheduleId).describe();
    const lastRun = d.info.recentActions.at(-1)?.action.workflow.workflowId;
    states.push({ scheduleId: d.scheduleId, paused: d.state.paused, ...(d.state.note ? { note: d.state.note } : {}), ...(lastRun ? { lastRun } : {}) });
  }
  return states;
}

function signersIn(file: string | undefined): Set<string> {
  if (!file) return new Set();
  const principals = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const first = line.trim().split(/\s+/)[0];
    if (first && !first.startsWith('#')) for (const p of first.split(',')) principals.add(p);
  }
  return principals;
}

/**
 * The stack-wide readiness (issue 13, seed 002's checklist between incidents): could a recovery start now
 * and meet its objectives? Reads only, changes nothing; a check that cannot be made fails, naming why.
 */
export function createStackReadinessActivities(w: StackReadinessWiring) {
  const timeoutMs = w.timeoutMs ?? 5000;
  const readOnly = async <T>(database: string, read: (client: PoolClient) => Promise<T>) => readOnlyOn(await w.connections.pool(database), timeoutMs, read);

  return {
    async assessStackReadiness(): Promise<StackReadiness> {
      const lines: StackReadinessLine[] = [];
      const add = (check: ReadinessCheckName, subject: string, passed: boolean, detail: string, warning = false) => {
        lines.push({ check, subject, passed, ...(warning ? { warning } : {}), detail });
        Context.current().heartbeat({ checked: lines.length });
      };

      for (const database of w.databases) {
        // Reachable, and its size for the repository line.
        let sizeBytes: number | undefined;
        try {
          sizeBytes = await readOnly(database, async (c) => Number((await c.query<{ size: string }>('SELECT pg_database_size(current_database())::text AS size')).rows[0]!.size));
          add('reachability', `database ${database}`, true, `${database} answers`);
        } catch (error) {
          add('reachability', `database ${database}`, false, `${database} does not answer: ${errorOf(error)}`);
        }
        try {
          const good = (await w.platform.listBackups(database)).filter((b) => !w.failedItsTest?.(database, b.label));
          add('reachability', `database platform (${database})`, true, `the database platform lists ${database}'s backup sets`);
          const newest = good.reduce<string | undefined>((latest, b) => (latest === undefined || Date.parse(b.stoppedAt) > Date.parse(latest) ? b.stoppedAt : latest), undefined);
          const age = newest ? Math.max(0, (Date.now() - Date.parse(newest)) / 1000) : Number.POSITIVE_INFINITY;
          const ok = age <= w.backupMaxAgeSeconds;
          add('backup-age', database, ok, newest
            ? `the newest good backup of ${database} finished ${ageText(age)} ago (${newest}), ${ok ? 'within' : 'OLDER THAN'} the objective of ${ageText(w.backupMaxAgeSeconds)}${ok ? '' : ': take a backup now (the platform\'s backup job) and find why the scheduled one did not run'}`
            : `${database} has no good backup set: take one before anything else`);
        } catch (error) {
          add('reachability', `database platform (${database})`, false, `the database platform cannot list ${database}'s backup sets: ${errorOf(error)}`);
          add('backup-age', database, false, `the age of ${database}'s newest backup cannot be known: ${errorOf(error)}`);
        }
        try {
          const wal = await readOnly(database, (c) => readWalArchiveState(c));
          if (!wal.archiving) add('wal-archive', database, false, `${database} does not archive its WAL (archive_mode off, or a standby): a point-in-time recovery cannot reach past the newest backup`);
          else {
            const ok = !wal.failing && wal.lagSeconds <= w.rpoSeconds;
            const why = wal.failing ? `archive_command is failing (last failure ${wal.lastFailedAt} on ${wal.lastFailedWal}${wal.lastArchivedAt ? `, last success ${wal.lastArchivedAt}` : ', never succeeded'}); ` : '';
            add('wal-archive', database, ok, `${why}the oldest WAL segment waiting to be archived has waited ${ageText(wal.lagSeconds)}, ${wal.lagSeconds <= w.rpoSeconds ? 'within' : 'MORE THAN'} the RPO of ${ageText(w.rpoSeconds)}${ok ? '' : ': check archive_command and the repository (the PostgreSQL log names the error)'}`);
          }
        } catch (error) {
          add('wal-archive', database, false, `the WAL archive of ${database} cannot be read: ${errorOf(error)}`);
        }
        if (w.repositoryPath && sizeBytes !== undefined) {
          try {
            const dir = existingAncestor(w.repositoryPath);
            const fs = await statfs(dir);
            const free = fs.bavail * fs.bsize;
            add('repository-space', database, free >= sizeBytes, `${mib(free)} free in the backup repository for ${database}'s ${mib(sizeBytes)}${free >= sizeBytes ? '' : ': the next full backup may not fit; expire old backup sets or grow the repository'}`);
          } catch (error) {
            add('repository-space', database, false, `the backup repository's free space cannot be read: ${errorOf(error)}`);
          }
        }
        try {
          await (await w.connections.connection(database)).password();
          add('secrets', `credentials of ${database}`, true, `the credentials of ${database} resolve`);
        } catch (error) {
          add('secrets', `credentials of ${database}`, false, `the credentials of ${database} do not resolve: ${errorOf(error)}`);
        }
      }

      try {
        await w.objectStore.list('reports/');
        add('reachability', 'object store', true, 'the object store (reports, baselines) answers');
      } catch (error) {
        add('reachability', 'object store', false, `the object store does not answer: ${errorOf(error)}`);
      }

      for (const name of [...new Set(w.secretNames)].sort()) {
        try {
          const value = (await w.secrets.read(name)).value;
          add('secrets', name, value.trim() !== '', value.trim() !== '' ? `secret "${name}" resolves` : `secret "${name}" is empty`);
        } catch (error) {
          add('secrets', name, false, `secret "${name}" does not resolve: ${errorOf(error)}`);
        }
      }

      let signers: Set<string> | undefined;
      for (const gate of w.gates) {
        if (gate.authentication === 'none') {
          add('approvers', gate.gate, true, `gate ${gate.gate}: votes need no proof (authentication: none), anyone who can signal may vote as ${gate.approvers.join(', ')}`, true);
          continue;
        }
        const missing: string[] = [];
        for (const approver of gate.approvers) {
          let ssh = false;
          let totp = false;
          if (gate.authentication !== 'totp') {
            try {
              signers ??= signersIn(w.allowedSignersFile);
              ssh = signers.has(approver);
            } catch {
              ssh = false;
            }
          }
          if (gate.authentication !== 'ssh') totp = await w.secrets.read(w.totpSecretName(approver)).then((s) => s.value.trim() !== '', () => false);
          if (!ssh && !totp) missing.push(approver);
        }
        const how = gate.authentication === 'ssh' ? 'a key in approvals.allowedSigners' : gate.authentication === 'totp' ? 'a TOTP secret' : 'a key in approvals.allowedSigners or a TOTP secret';
        add('approvers', gate.gate, missing.length === 0, missing.length === 0
          ? `gate ${gate.gate}: every approver (${gate.approvers.join(', ')}) can prove a vote (${gate.authentication})`
          : `gate ${gate.gate}: ${missing.join(', ')} cannot prove a vote: each needs ${how}`);
      }

      try {
        const schedules = await (w.drillSchedules ?? drillSchedulesOfWorker)();
        for (const s of schedules) {
          add('drill-schedules', s.scheduleId, !s.paused, s.paused
            ? `${s.scheduleId} is paused${s.note ? ` (${s.note})` : ''}${s.lastRun ? `; its last drill was ${s.lastRun}` : ''}: a failed drill pauses it; read the drill's report, then dr drills unpause --scenario <scenario>`
            : `${s.scheduleId} runs${s.lastRun ? ` (last drill ${s.lastRun})` : ''}`);
        }
      } catch (error) {
        add('drill-schedules', 'drill schedules', false, `the drill schedules cannot be listed: ${errorOf(error)}`);
      }

      const failing = lines.filter((l) => !l.passed);
      return { environment: w.environment, checkedAt: new Date().toISOString(), ready: failing.length === 0, lines };
    },

    /** The report (readiness/latest.json and one per run) and the gauges (dr_readiness_check_ok per check). */
    async publishStackReadiness(readiness: StackReadiness): Promise<{ reportKey: string }> {
      const body = JSON.stringify(readiness, null, 2) + '\n';
      const reportKey = `readiness/${readiness.environment}/${readiness.checkedAt.replace(/[:.]/g, '-')}.json`;
      await w.objectStore.put(reportKey, body, 'application/json');
      await w.objectStore.put(`readiness/${readiness.environment}/latest.json`, body, 'application/json');
      w.metrics.readinessChecked(readiness);
      return { reportKey };
    },
  };
}

export type StackReadinessActivities = ReturnType<typeof createStackReadinessActivities>;
