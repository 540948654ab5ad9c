import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { createLocalAppRuntime } from '../../activities/adapters/local/local-app-runtime';
import { createSecretsDirectory } from '../../activities/adapters/local/secrets-directory';
import { freePort } from '../../lib/ports';
import { demoService } from '../support/app-runtime';
import { appDatabases } from '../support/app-databases';
import { startTestClusters } from '../support/clusters';
import { appRuntimeContract, type ContractDatabase } from './app-runtime-contract';

// The AppRuntime contract on the local runtime: the demo financial service as one process, its
// DATABASE_URL in an env file, over two real PostgreSQL 15 clusters.
let env: Awaited<ReturnType<typeof startTestClusters>>;
const databases: Record<'a' | 'b', ContractDatabase> = {} as never;

before(async () => {
  env = await startTestClusters(['a', 'b']);
  Object.assign(databases, await appDatabases({ a: env.clusters.a!, b: env.clusters.b! }));
});
after(async () => {
  await env?.stop();
});

appRuntimeContract('local runtime', async (caseName) => {
  const dir = path.join(env.dir, caseName);
  mkdirSync(dir, { recursive: true });
  const envFile = path.join(dir, 'financial-app.env');
  const secrets = createSecretsDirectory(path.join(dir, 'secrets'));
  const runtime = createLocalAppRuntime({ envFile, port: await freePort(), ...demoService(secrets) });
  // The service as an operator started it: its env file written by hand.
  writeFileSync(envFile, `DATABASE_URL=${databases.a.url}\n`);
  await runtime.restart();
  await runtime.waitRolledOut();
  let saved = '';
  return {
    runtime,
    secrets,
    connectionSecret: 'app-database-connection',
    cacheSecret: 'app-cache-connection',
    databases,
    maxReplicas: 1,
    failedRolloutSays: /the application process is not running: process \d+ exited before it listened; its log .* ends: .*DATABASE_URL is not a valid URL/,
    // A crash at start: the env file the next process reads is broken.
    async breakRollouts() {
      saved = readFileSync(envFile, 'utf8');
      writeFileSync(envFile, 'DATABASE_URL=not-a-url\n');
    },
    async repairRollouts() {
      writeFileSync(envFile, saved);
    },
    async runningReplicas() {
      if (!existsSync(runtime.pidFile)) return 0;
      try {
        process.kill(Number(readFileSync(runtime.pidFile, 'utf8')), 0);
        return 1;
      } catch {
        return 0;
      }
    },
    cleanup: async () => {
      await runtime.stop();
    },
  };
});
