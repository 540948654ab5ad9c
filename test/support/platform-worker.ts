import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { NativeConnection, Worker, Runtime, DefaultLogger } from '@temporalio/worker';
import { createPlatformActivities } from '../../activities/platform-activities';
import { createLocalDatabasePlatform } from '../../activities/adapters/local/postgres';
import { createAdapters, type AdapterOptions } from '../../worker/adapters';
import { loadWorkerConfig } from '../../worker/config';
import { localTwinResolver } from './rds-twin';

// A worker process for crash tests: the restore fixture workflow and the platform activities, wired from
// DR_CONFIG. Env: TEMPORAL_ADDRESS, DR_TASK_QUEUE, DR_CONFIG. Prints "worker ready" once it polls.
// With platform.rds (on moto), the data behind a moto instance is a real local PostgreSQL built by the local
// platform in DR_TEST_LOCAL_PLATFORM_DIR for the same operation; with DR_TEST_UNREACHABLE=1 no built
// instance answers (its database still starting), so a restore waits.
async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = loadWorkerConfig(process.env.DR_CONFIG!);
  const platform = createAdapters(config, twinOptions()).databasePlatform;
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.DR_TASK_QUEUE!,
    workflowsPath: require.resolve('../fixtures/workflows/restore-fixture'),
    activities: createPlatformActivities(platform),
  });
  console.log('worker ready');
  await worker.run();
  await connection.close();
}

function twinOptions(): AdapterOptions {
  const dir = process.env.DR_TEST_LOCAL_PLATFORM_DIR;
  if (!dir) return {};
  const resolver = localTwinResolver(createLocalDatabasePlatform({ stateDir: dir, stanza: 'production', recoveryTimeoutMs: 120_000 }));
  const unreachable = process.env.DR_TEST_UNREACHABLE === '1';
  return { rdsEndpointResolver: async (facts) => (unreachable && facts.instanceId !== 'production' ? { host: '127.0.0.1', port: 1 } : resolver(facts)) };
}

/** Starts this worker as a child process (to be killed by a test) and waits until it polls. */
export async function startPlatformWorker(options: { temporalAddress: string; taskQueue: string; configFile: string; env?: Record<string, string> }): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename], {
    cwd: path.resolve(__dirname, '..', '..'),
    env: { ...process.env, TEMPORAL_ADDRESS: options.temporalAddress, DR_TASK_QUEUE: options.taskQueue, DR_CONFIG: options.configFile, ...options.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => { if (chunk.toString().includes('worker ready')) resolve(); });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready`)));
  });
  return child;
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
