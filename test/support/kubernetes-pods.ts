import path from 'node:path';
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { formatEnvFile } from '../../activities/adapters/local/env-file';
import { createLocalAppRuntime, type LocalAppRuntime } from '../../activities/adapters/local/local-app-runtime';
import { connectionUrlOf, decodeData, type AppSecretKeys } from '../../activities/adapters/kubernetes/app-secret-data';
import { rolloutOf } from '../../activities/adapters/kubernetes/rollout-status';
import { writeFileAtomic } from '../../lib/atomic-file';
import { sleep } from '../../lib/child-process';
import { freePort } from '../../lib/ports';
import { notConfigured } from '../../activities/ports/not-configured';
import type { SecretStore } from '../../activities/ports/secret-store';
import { demoService } from './app-runtime';

export interface PodsOfDeployment {
  /** The application's health URL, as a Service would expose it. */
  healthUrl: string;
  /** How many times "the pods" were started on a new rollout. */
  starts(): number;
  stop(): Promise<void>;
}

/**
 * kwok runs no containers, so this plays what the Deployment's pods do: whenever a rollout of it has
 * completed (kubectl's rules), start the demo financial service with the connection the pods read from
 * the application's Secret, as a container started by that rollout would; at 0 replicas, stop it. What it
 * proves is the Secret's content and the rollout's order (the health URL answers from the database the
 * Secret names only after a rollout): the runbook reaches it through the health URL only.
 */
export async function startPodsOfDeployment(options: { admin: KubeConfig; namespace: string; deployment: string; secret: string; keys: AppSecretKeys; dir: string }): Promise<PodsOfDeployment> {
  const apps = options.admin.makeApiClient(AppsV1Api);
  const core = options.admin.makeApiClient(CoreV1Api);
  const envFile = path.join(options.dir, `${options.namespace}.pod.env`);
  const port = await freePort();
  const service: LocalAppRuntime = createLocalAppRuntime({ envFile, port, ...demoService(notConfigured<SecretStore>('secrets (the pods read their Secret, not a store)', 'none')) });
  let running = true;
  let startedFor: number | undefined;
  let starts = 0;
  let problem: unknown;

  const loop = (async () => {
    while (running) {
      try {
        const deployment = await apps.readNamespacedDeployment({ namespace: options.namespace, name: options.deployment });
        const generation = deployment.metadata?.generation ?? 0;
        if (rolloutOf(deployment).state === 'done' && generation !== startedFor) {
          if ((deployment.spec?.replicas ?? 1) === 0) {
            await service.stop();
          } else {
            const secret = await core.readNamespacedSecret({ namespace: options.namespace, name: options.secret });
            const url = connectionUrlOf(decodeData(secret.data), options.keys);
            if (!url) throw new Error(`the pods cannot start: Secret ${options.secret} holds no connection`);
            writeFileAtomic(envFile, formatEnvFile({ DATABASE_URL: url }));
            await service.restart();
            await service.waitRolledOut().catch(() => undefined); // listening, or exited: either way it is known
            starts++;
          }
          startedFor = generation;
        }
      } catch (error) {
        problem = error;
      }
      await sleep(150);
    }
  })();

  return {
    healthUrl: `http://127.0.0.1:${port}/health/database`,
    starts: () => starts,
    async stop() {
      running = false;
      await loop;
      await service.stop();
      if (problem && process.env.DR_TEST_DEBUG) console.error('pods of deployment: last problem', problem);
    },
  };
}
