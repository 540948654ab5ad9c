import { existsSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { pgBackRestSetupOf, stopPlatformInstances, type LocalPlatformOptions } from '../activities/adapters/local/postgres';
import { createAdapters } from '../worker/adapters';
import { startLocalStack } from '../stack/local-stack';
import { repoRoot } from '../stack/paths';
import { stopClusterIfRunning, type PostgresCluster } from '../activities/adapters/local/postgres';
import { runMain } from '../lib/prerequisite-error';
import { loadWorkerConfig } from '../worker/config';
import { createRunbookWorker } from '../worker/worker';
import type { BenchContext } from './context';
import { datasetKey, ensureDataset, parseScale, removeLeftoverInstances, scales, waitForArchiver } from './dataset';
import { benchManyRunbooks, benchParallelDrills } from './concurrency-bench';
import { benchDiff } from './diff-bench';
import { benchFailover, replicaId } from './failover-bench';
import { benchPitr, preparePitrTarget } from './pitr-bench';
import { renderTable, type BenchResult } from './report-table';
import { benchValidationGate } from './validation-bench';

// `npm run bench [-- --scale small|full] [--seed N] [--only validation,pitr,diff,concurrency,failover]`
// [--json]: one JSON document on stdout (scale, machine, every result with its raw figure), progress on stderr.
// concurrency: [--runbooks 200] fixture runbooks at once on one worker, [--drills 10] real drills at once (0: none), [--tuning runbook-worker|sdk-defaults]
// Benchmarks on a real stack (Temporal, production PostgreSQL archiving to pgBackRest, the demo app).
// The seeded production cluster is cached under .state/bench/<size+seed>/ and reused by later runs.
const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: 'full' },
    seed: { type: 'string', default: '1' },
    only: { type: 'string' },
    repetitions: { type: 'string', default: '3' },
    runbooks: { type: 'string', default: '200' },
    drills: { type: 'string', default: '10' },
    tuning: { type: 'string', default: 'runbook-worker' },
    json: { type: 'boolean', default: false },
  },
});
const benchmarks = ['validation', 'pitr', 'diff', 'concurrency', 'failover'] as const;
const positive = (flag: string, value: string | undefined, min: number) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${flag} must be an integer ≥ ${min}, got "${value}"`);
  return n;
};

void runMain(async () => {
  const scale = parseScale(values.scale);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got "${values.seed}"`);
  const repetitions = Number(values.repetitions);
  if (!Number.isInteger(repetitions) || repetitions < 1) throw new Error(`--repetitions must be a positive integer, got "${values.repetitions}"`);
  const runbooks = positive('runbooks', values.runbooks, 1);
  const drills = positive('drills', values.drills, 0);
  if (values.tuning !== 'runbook-worker' && values.tuning !== 'sdk-defaults') throw new Error(`--tuning must be "runbook-worker" (the worker's own limits) or "sdk-defaults", got "${values.tuning}"`);
  const tuning = values.tuning;
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : [...benchmarks];
  for (const name of only) if (!(benchmarks as readonly string[]).includes(name)) throw new Error(`--only: unknown benchmark "${name}" (known: ${benchmarks.join(', ')})`);
  // The diff needs the copy the PITR benchmark restores.
  if (only.includes('diff') && !only.includes('pitr')) only.push('pitr');

  Runtime.install({ logger: new DefaultLogger('WARN') });
  const size = scales[scale];
  const stateDir = path.join(repoRoot, '.state', 'bench', datasetKey(size, seed));
  const began = Date.now();
  // With --json, stdout carries only the JSON document; progress goes to stderr.
  // The worker's console notifier and anything else that prints would land in the JSON document.
  if (values.json) console.log = console.error;
  const log = (line: string) => console.log(`[${((Date.now() - began) / 1000).toFixed(0).padStart(5)} s] ${line}`);
  log(`scale ${scale}: ${size.users.toLocaleString('en-US')} users × ${size.transactionsPerUser} transactions; state ${path.relative(repoRoot, stateDir)}`);

  // Servers a killed earlier run left behind on this state directory.
  const platformOptions: LocalPlatformOptions = { stateDir: path.join(stateDir, 'platform'), stanza: 'production' };
  if (existsSync(platformOptions.stateDir)) await stopPlatformInstances(platformOptions);
  const byHand = path.join(stateDir, 'by-hand');
  if (existsSync(byHand)) for (const d of readdirSync(byHand)) await stopClusterIfRunning(path.join(byHand, d, 'data'));

  const stack = await startLocalStack({ stateDir, log });
  let copy: PostgresCluster | undefined;
  let stopWorker: (() => Promise<void>) | undefined;
  let stopping: Promise<void> | undefined;
  const stopAll = () => (stopping ??= (async () => {
    log('stopping everything this run started');
    await stopWorker?.().catch(() => undefined);
    await copy?.stop('immediate').catch(() => undefined);
    await stack.stop();
  })());
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(143)));

  const results: BenchResult[] = [];
  try {
    const config = loadWorkerConfig(stack.configFile);
    const local = config.platform!.local!;
    const platform = createAdapters(config).databasePlatform;
    await removeLeftoverInstances(platform, local.stateDir, log);
    const marker = await ensureDataset({ stateDir, productionUrl: stack.production.url(stack.databaseName), size, seed, log });
    if (!(await platform.listBackups('production')).some((b) => b.type === 'full')) {
      await waitForArchiver(stack.production.url(stack.databaseName), log);
      log('taking the full backup of the dataset with pgBackRest (once per cached dataset)');
      const backup = await platform.takeBackup({ sourceInstanceId: 'production', type: 'full' });
      log(`backup ${backup.label}: ${(backup.sizeBytes / 1024 ** 3).toFixed(2)} GB`);
    }

    const connection = await NativeConnection.connect({ address: stack.temporal.address });
    const taskQueue = `bench-${process.pid}`;
    // Drill gates wait for a person (not the drill policy), so the PITR run can be stopped at its gate with nothing running.
    const { worker, run } = await createRunbookWorker({ connection, namespace: stack.temporal.namespace, taskQueue, config: { ...config, approvals: { ...config.approvals, drill: { autoApprove: false } } } });
    const running = run();
    const clientConnection = await Connection.connect({ address: stack.temporal.address });
    stopWorker = async () => {
      worker.shutdown();
      await running;
      await connection.close();
      await clientConnection.close();
    };
    const ctx: BenchContext = {
      stateDir, stack, config, platform, log, taskQueue,
      pgbackrest: pgBackRestSetupOf({ ...local, stateDir: local.stateDir }),
      temporal: new Client({ connection: clientConnection, namespace: stack.temporal.namespace }),
      transactions: marker.transactions,
    };
    const attempt = async (name: string, fn: () => Promise<BenchResult | BenchResult[]>) => {
      if (stopping) return; // interrupted: start nothing new while the stack is being stopped
      try {
        const r = await fn();
        results.push(...(Array.isArray(r) ? r : [r]));
      } catch (error) {
        log(`${name}: FAILED: ${(error as Error).message}`);
        results.push({ name, figure: 'error', goal: '—', met: false, note: (error as Error).message.split('\n')[0] });
      }
    };

    if (only.includes('validation')) await attempt('validation gate', () => benchValidationGate(ctx, repetitions));
    if (only.includes('pitr')) {
      await attempt('PITR', async () => {
        const target = await preparePitrTarget(ctx);
        const pitr = await benchPitr(ctx, target);
        copy = pitr.copy;
        return pitr.result;
      });
    }
    if (only.includes('diff') && copy) {
      const restored = copy;
      await attempt('key-range diff', () => benchDiff(ctx, restored));
    }
    if (copy) {
      await copy.stop('immediate');
      rmSync(copy.dir, { recursive: true, force: true });
      copy = undefined;
    }
    if (only.includes('concurrency')) {
      await attempt('many runbooks', () => benchManyRunbooks(ctx, runbooks, tuning));
      if (drills > 0) await attempt('parallel drills', async () => benchParallelDrills(ctx, await preparePitrTarget(ctx), drills));
    }
    if (only.includes('failover')) {
      await attempt('failover', () => benchFailover(ctx));
      await platform.deleteInstance(replicaId).catch(() => undefined);
    }

    const memoryGb = (os.totalmem() / 1024 ** 3).toFixed(0);
    if (values.json) {
      const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown', memoryBytes: os.totalmem(), loadAverage: os.loadavg(), node: process.version };
      process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), scale, transactions: marker.transactions, machine, results }, null, 2)}\n`);
    } else {
      console.log(`\nBenchmarks — ${new Date().toISOString().slice(0, 10)}, scale ${scale} (${marker.transactions.toLocaleString('en-US')} transactions), ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${memoryGb} GB RAM, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, Node ${process.version}`);
      console.log(renderTable(results));
    }
    return results.some((r) => r.figure === 'error') ? 1 : 0;
  } finally {
    await stopAll();
  }
});
