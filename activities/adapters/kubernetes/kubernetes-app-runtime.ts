import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Deployment, type V1Secret } from '@kubernetes/client-node';
import { AppRuntimeRefusedError, RolloutFailedError, type AppHealthCheck, type AppPointer, type AppRuntime, type AppRuntimeNames, type PointAppResult, type RestartResult, type RolloutStatus, type RolloutWaitOptions } from '../../ports/app-runtime';
import type { SecretRef, SecretStore } from '../../ports/secret-store';
import { endpointOfUrl, formatEndpoint } from '../../../lib/postgres-url';
import { sleepUnlessAborted } from '../../../lib/child-process';
import { errorText } from '../../../contracts/error-text';
import { waitForHealthyAnswer } from '../app-health-endpoint';
import { kubernetesError, statusOf } from './api-errors';
import { appSecretData, connectionUrlOf, decodeData, encodeData, holds, type AppSecretKeys } from './app-secret-data';
import { updateWithRetry } from './optimistic-update';
import { rolloutOf } from './rollout-status';

/** One Deployment on one cluster. */
export interface KubernetesDeploymentTarget {
  kubeConfig: KubeConfig;
  namespace: string;
  deployment: string;
  /** Where the worker can reach the application's health endpoint. */
  healthUrl?: string;
}

export interface KubernetesAppRuntimeOptions {
  /** The application's Deployment (config `app.kubernetes`). */
  primary: KubernetesDeploymentTarget;
  /** The application's Secret in the primary's namespace (the seed's mita-db-config). */
  secret: string;
  secretKeys: AppSecretKeys;
  /** The key of the application's Secret that holds its Redis URL (config `app.kubernetes.cacheSecretKey`); without it the cache is not cut over here. */
  cacheSecretKey?: string;
  /** The DR region's copy, scaled up by the region outage (config `app.kubernetes.standby`). */
  standby?: KubernetesDeploymentTarget;
  /** Where the connection versions the application is pointed at are read (and a hand-written one kept). */
  secrets: SecretStore;
  rolloutTimeoutMs: number;
  pollIntervalMs?: number;
}

/** kubectl rollout restart's annotation: a new value in the pod template makes the Deployment roll. */
export const restartedAtAnnotation = 'kubectl.kubernetes.io/restartedAt';
/** Which connection secret version the application's Secret holds, and which one it held before (never a value). */
const connectionAnnotation = 'dr-runbooks.io/connection';
const previousConnectionAnnotation = 'dr-runbooks.io/previous-connection';
/** The same for the application's cache connection (seed 002's Redis), beside the database's. */
const cacheConnectionAnnotation = 'dr-runbooks.io/cache-connection';
const previousCacheConnectionAnnotation = 'dr-runbooks.io/previous-cache-connection';

const strategicMerge = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/**
 * The application on Kubernetes: its database connection is the Deployment's Secret, replaced with
 * optimistic concurrency (`kubectl create secret … --dry-run=client -o yaml | kubectl apply -f -`); a restart is
 * `kubectl rollout restart` (the restartedAt pod-template annotation, by strategic-merge patch), waited for
 * by `kubectl rollout status`'s rules; health is the Deployment's available replicas plus the application's
 * health URL where the worker can reach it; scaling goes through the Deployment's scale subresource. Needs
 * only the Role in deploy/kubernetes/rbac.yaml: get/update the named Secrets, get/patch the named
 * Deployments, get/patch their scale.
 */
export function createKubernetesAppRuntime(options: KubernetesAppRuntimeOptions): AppRuntime {
  const { primary, secretKeys, secrets } = options;
  const core = primary.kubeConfig.makeApiClient(CoreV1Api);
  const appsOf = (target: KubernetesDeploymentTarget) => target.kubeConfig.makeApiClient(AppsV1Api);
  const apps = appsOf(primary);
  const namespace = primary.namespace;
  const secretName = options.secret;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const deploymentName = (target: KubernetesDeploymentTarget) => `deployment/${target.deployment}`;
  const names: AppRuntimeNames = {
    application: deploymentName(primary),
    connection: `Secret ${namespace}/${secretName}`,
    restart: `rollout restart ${deploymentName(primary)}`,
    rolloutStatus: `rollout status ${deploymentName(primary)}`,
  };

  async function readSecret(): Promise<V1Secret> {
    try {
      return await core.readNamespacedSecret({ namespace, name: secretName });
    } catch (error) {
      if (statusOf(error) === 404) throw new Error(`${names.connection} does not exist: the application's pods read their database from it (create it, or set app.kubernetes.secret to the Secret they mount)`);
      throw kubernetesError(error, `reading ${names.connection}`);
    }
  }
  async function replaceSecret(body: V1Secret): Promise<V1Secret> {
    try {
      return await core.replaceNamespacedSecret({ namespace, name: secretName, body });
    } catch (error) {
      if (statusOf(error) === 409) throw error; // updateWithRetry re-reads and tries again
      throw kubernetesError(error, `replacing ${names.connection}`);
    }
  }
  async function readDeployment(target: KubernetesDeploymentTarget): Promise<V1Deployment> {
    try {
      return await appsOf(target).readNamespacedDeployment({ namespace: target.namespace, name: target.deployment });
    } catch (error) {
      throw kubernetesError(error, `reading ${deploymentName(target)} in namespace ${target.namespace}`);
    }
  }

  const recorded = (secret: V1Secret, key: string): AppPointer | null => {
    const text = secret.metadata?.annotations?.[key];
    if (!text) return null;
    try {
      return JSON.parse(text) as AppPointer;
    } catch {
      return null;
    }
  };
  /** What the Secret points at: as recorded by a runbook, or read from its keys when a person wrote it. */
  function pointerOf(secret: V1Secret): AppPointer | null {
    const url = connectionUrlOf(decodeData(secret.data), secretKeys);
    if (!url) return null;
    const mine = recorded(secret, connectionAnnotation);
    const endpoint = formatEndpoint(endpointOfUrl(url));
    return mine && mine.endpoint === endpoint ? mine : { endpoint, name: null };
  }
  const annotated = (secret: V1Secret, set: Record<string, AppPointer | null>): V1Secret['metadata'] => {
    const annotations = { ...secret.metadata?.annotations };
    for (const [key, pointer] of Object.entries(set)) {
      if (pointer) annotations[key] = JSON.stringify(pointer);
      else delete annotations[key];
    }
    return { ...secret.metadata, annotations };
  };
  const sameVersion = (a?: SecretRef, b?: SecretRef) => a?.name === b?.name && a?.version === b?.version;

  /** Which connection of the Secret a pointer change is about: the database's (its keys), or the cache's (one key). */
  interface Connection {
    annotation: string;
    previousAnnotation: string;
    pointerOf(secret: V1Secret): AppPointer | null;
  }
  const databaseConnection: Connection = { annotation: connectionAnnotation, previousAnnotation: previousConnectionAnnotation, pointerOf };
  const cacheConnection = (key: string): Connection => ({
    annotation: cacheConnectionAnnotation,
    previousAnnotation: previousCacheConnectionAnnotation,
    pointerOf: (secret) => {
      const url = decodeData(secret.data)[key];
      if (!url) return null;
      const mine = recorded(secret, cacheConnectionAnnotation);
      const parsed = new URL(url);
      const endpoint = `${parsed.hostname}:${parsed.port || 6379}`;
      return mine && mine.endpoint === endpoint ? mine : { endpoint, name: null };
    },
  });

  async function point(wanted: Record<string, string>, pointer: AppPointer, keepPrevious: boolean, which: Connection = databaseConnection): Promise<PointAppResult> {
    let result: PointAppResult | undefined;
    await updateWithRetry(readSecret, (secret) => {
      const data = decodeData(secret.data);
      const current = which.pointerOf(secret);
      const kept = recorded(secret, which.previousAnnotation);
      if (holds(data, wanted) && sameVersion(current?.secret, pointer.secret)) {
        result = { current: pointer, previous: kept, changed: false, runtime: names };
        return undefined;
      }
      result = { current: pointer, previous: keepPrevious ? current : kept, changed: true, runtime: names };
      return {
        ...secret,
        metadata: annotated(secret, { [which.annotation]: pointer, ...(keepPrevious ? { [which.previousAnnotation]: current } : {}) }),
        data: encodeData({ ...data, ...wanted }),
        stringData: undefined,
      };
    }, replaceSecret);
    return result!;
  }

  /** kubectl's verdict; `settled` also waits for the replica count itself (a scale-down is done when the pods are gone). */
  const statusOfRollout = (target: KubernetesDeploymentTarget, deployment: V1Deployment, settled = false): RolloutStatus & { state: 'progressing' | 'done' | 'failed' } => {
    const r = rolloutOf(deployment);
    const state = settled && r.state === 'done' && (r.replicas !== r.desired || r.available !== r.desired) ? 'progressing' : r.state;
    return { state, application: deploymentName(target), desired: r.desired, updated: r.updated, available: r.available, message: r.message, observedGeneration: r.observedGeneration, ...(r.revision ? { revision: r.revision } : {}) };
  };

  /** kubectl rollout status: polls until done, fails on ProgressDeadlineExceeded, a paused Deployment, or the timeout. */
  async function rolledOut(target: KubernetesDeploymentTarget, wait: RolloutWaitOptions = {}, settled = false): Promise<RolloutStatus> {
    const timeoutMs = wait.timeoutMs ?? options.rolloutTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    let last: (RolloutStatus & { state: string }) | undefined;
    let lastError: unknown;
    for (;;) {
      try {
        const deployment = await readDeployment(target);
        last = statusOfRollout(target, deployment, settled);
        lastError = undefined;
        wait.onProgress?.(last);
        const { state, ...status } = last;
        if (state === 'done') return status;
        if (state === 'failed') throw new RolloutFailedError(status.message, status);
        if (deployment.spec?.paused) throw new RolloutFailedError(`${deploymentName(target)} is paused, so it will not roll out: run \`kubectl rollout resume ${deploymentName(target)} -n ${target.namespace}\``, status);
      } catch (error) {
        if (error instanceof RolloutFailedError) throw error;
        lastError = error; // the API server may be briefly unreachable: keep polling until the deadline
      }
      if (wait.signal?.aborted) throw new Error(`stopped waiting for ${deploymentName(target)} to roll out: cancelled`);
      if (Date.now() >= deadline) {
        const where = last ? last.message : `no answer: ${errorText(lastError)}`;
        throw new RolloutFailedError(`${deploymentName(target)} did not roll out within ${Math.round(timeoutMs / 1000)} s: ${where}`, last && (({ state: _, ...s }) => s)(last));
      }
      await sleepUnlessAborted(Math.min(wait.intervalMs ?? pollIntervalMs, Math.max(deadline - Date.now(), 0)), wait.signal);
    }
  }

  return {
    names,

    async pointAppAt(target) {
      const connection = await secrets.read(target.secret);
      const pointer: AppPointer = { endpoint: formatEndpoint(endpointOfUrl(connection.value)), name: target.database, secret: { name: connection.name, version: connection.version } };
      return point(appSecretData(connection.value, secretKeys), pointer, true);
    },

    async adoptCurrentConnection(secretName) {
      const secret = await readSecret();
      const url = connectionUrlOf(decodeData(secret.data), secretKeys);
      if (!url) return null;
      const current = pointerOf(secret);
      if (current?.secret?.name === secretName) {
        const kept = await secrets.read(current.secret).catch(() => undefined);
        if (kept?.value === url) return current.secret;
      }
      // Written by hand (the operators' own `kubectl create secret`): keep it as a version, so there is one to go back to.
      const adopted = await secrets.write(secretName, url);
      const pointer: AppPointer = { endpoint: formatEndpoint(endpointOfUrl(url)), name: current?.name ?? null, secret: { name: adopted.name, version: adopted.version } };
      await updateWithRetry(readSecret, (now) => (connectionUrlOf(decodeData(now.data), secretKeys) === url && !sameVersion(pointerOf(now)?.secret, pointer.secret)
        ? { ...now, metadata: annotated(now, { [connectionAnnotation]: pointer }) }
        : undefined), replaceSecret);
      return pointer.secret!;
    },

    async pointAppAtCache(target) {
      const key = options.cacheSecretKey;
      if (!key) throw new AppRuntimeRefusedError(`cannot point ${names.application} at the cache ${target.cache}: no key of ${names.connection} is configured for its Redis URL (set app.kubernetes.cacheSecretKey, e.g. redis-url, to the key its pods read)`);
      const connection = await secrets.read(target.secret);
      const pointer: AppPointer = { endpoint: `${target.endpoint.host}:${target.endpoint.port}`, name: target.cache, secret: { name: connection.name, version: connection.version } };
      return point({ [key]: connection.value }, pointer, true, cacheConnection(key));
    },

    async rollbackAppPointer() {
      const kept = recorded(await readSecret(), previousConnectionAnnotation);
      if (!kept) throw new Error(`nothing to roll back to: ${names.connection} records no previous connection (the application was never re-pointed by a runbook)`);
      if (!kept.secret) throw new Error(`cannot roll back ${names.connection}: its previous connection (${kept.endpoint}) was written by hand and never kept as a version`);
      const connection = await secrets.read(kept.secret);
      return point(appSecretData(connection.value, secretKeys), kept, false);
    },

    async currentPointer() {
      return pointerOf(await readSecret());
    },

    async restart(): Promise<RestartResult> {
      const before = await readDeployment(primary);
      // kubectl refuses too: a paused Deployment takes the annotation but does not roll.
      if (before.spec?.paused) throw new RolloutFailedError(`${names.application} is paused: run \`kubectl rollout resume ${names.application} -n ${namespace}\` first (a paused Deployment does not roll out)`);
      const restartedAt = new Date().toISOString();
      let patched: V1Deployment;
      try {
        patched = await apps.patchNamespacedDeployment(
          { namespace, name: primary.deployment, body: { spec: { template: { metadata: { annotations: { [restartedAtAnnotation]: restartedAt } } } } } },
          strategicMerge,
        );
      } catch (error) {
        throw kubernetesError(error, `${names.restart} in namespace ${namespace}`);
      }
      const revision = before.metadata?.annotations?.['deployment.kubernetes.io/revision'];
      const running = before.status?.replicas ?? 0;
      return {
        restartedAt,
        stopped: running > 0 ? [`${revision ? `revision ${revision}` : 'the current revision'} (${running} replica${running === 1 ? '' : 's'})`] : [],
        started: [`rollout of ${names.application}, generation ${patched.metadata?.generation ?? '?'}`],
      };
    },

    waitRolledOut: (wait) => rolledOut(primary, wait),

    async waitHealthy(wait) {
      // After a region failover the standby answers: its Deployment, its health URL, its own copy of the Secret.
      const target = wait.standby && options.standby ? options.standby : primary;
      const application = deploymentName(target);
      const secretOfTarget = target === primary ? readSecret : async () => {
        try {
          return await target.kubeConfig.makeApiClient(CoreV1Api).readNamespacedSecret({ namespace: target.namespace, name: secretName });
        } catch (error) {
          throw kubernetesError(error, `reading Secret ${target.namespace}/${secretName} of the standby ${application}`);
        }
      };
      return waitForHealthyAnswer({
        ...(target.healthUrl ? { url: target.healthUrl } : {}),
        application,
        runtimeChecks: async (): Promise<AppHealthCheck[]> => {
          const status = statusOfRollout(target, await readDeployment(target));
          return [{ name: `${application} available`, passed: status.state === 'done', detail: status.state === 'done' ? `${status.available} of ${status.desired} available` : status.message, figures: { desired: status.desired, updated: status.updated, available: status.available } }];
        },
        configuredDatabase: async () => {
          const url = connectionUrlOf(decodeData((await secretOfTarget()).data), secretKeys);
          if (!url) return undefined;
          const { host, port, database } = endpointOfUrl(url);
          return { host, port, database, address: `${host}:${port}`, systemIdentifier: null };
        },
      }, wait);
    },

    async scale(replicas, wait) {
      if (!Number.isInteger(replicas) || replicas < 0) throw new Error(`replicas: must be a whole number of replicas, 0 or more (got ${replicas})`);
      const target = options.standby ?? primary;
      try {
        await appsOf(target).patchNamespacedDeploymentScale({ namespace: target.namespace, name: target.deployment, body: { spec: { replicas } } }, mergePatch);
      } catch (error) {
        throw kubernetesError(error, `scaling ${deploymentName(target)} in namespace ${target.namespace} to ${replicas}`);
      }
      await rolledOut(target, wait, true);
      return { replicas };
    },
  };
}
