import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../contracts/failure-types';
import { withHeartbeat } from './activity-context';
import { AppRuntimeRefusedError, type AppHealthCheck, type AppRuntime, type PointAppResult } from './ports/app-runtime';
import type { CacheConnection, CachePlatform } from './ports/cache-platform';
import type { SecretStore } from './ports/secret-store';

export interface AppCacheWiring {
  runtime: AppRuntime;
  cache: CachePlatform;
  secrets: SecretStore;
  /** The secret the application's cache connection is written to (config cache.connectionSecret). */
  connectionSecret: string;
}

/** Seed 002's validation after a recovery, as the application answers it: each group passed when all its checks did. */
export interface ApplicationChecks {
  checkedAt: string;
  passed: boolean;
  groups: Array<{ group: 'connectivity' | 'data integrity' | 'functionality'; passed: boolean; checks: Array<Pick<AppHealthCheck, 'name' | 'passed' | 'detail'>> }>;
}

/** redis://[user]:password@host:port/0 (rediss:// with TLS): the application's connection, written only into its secret. */
export function redisUrlOf(c: CacheConnection): string {
  const auth = `${c.username ? encodeURIComponent(c.username) : ''}:${encodeURIComponent(c.password)}@`;
  return `${c.tls ? 'rediss' : 'redis'}://${auth}${c.host}:${c.port}/0`;
}

/** Which of seed 002's three groups a named check belongs to. */
function groupOf(name: string): ApplicationChecks['groups'][number]['group'] | undefined {
  if (name.startsWith('connectivity')) return 'connectivity';
  if (name === 'data integrity' || name === 'integrity totals') return 'data integrity';
  if (name === 'functionality') return 'functionality';
  return undefined;
}

export function groupApplicationChecks(checks: readonly AppHealthCheck[], checkedAt: string): ApplicationChecks {
  const groups = (['connectivity', 'data integrity', 'functionality'] as const).map((group) => {
    const mine = checks.filter((c) => groupOf(c.name) === group).map((c) => ({ name: c.name, passed: c.passed, detail: c.detail }));
    // A group the application does not answer is not a pass: the seed requires all three.
    return { group, passed: mine.length > 0 && mine.every((c) => c.passed), checks: mine.length ? mine : [{ name: group, passed: false, detail: 'the application reports no such check' }] };
  });
  return { checkedAt, passed: groups.every((g) => g.passed), groups };
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

/**
 * The application's cache cutover and its own checks, over the AppRuntime: the cache connection is
 * written here, inside the worker, as a new version of the application's cache secret, and the runtime
 * is pointed at that version by reference.
 */
export function createAppCacheActivities({ runtime, cache, secrets, connectionSecret }: AppCacheWiring) {
  async function connectionOf(instanceId: string): Promise<CacheConnection> {
    const c = await cache.connectionFor(instanceId);
    if (!c) throw ApplicationFailure.create({ type: FailureType.InvalidInput, nonRetryable: true, message: `instanceId: the cache platform has no instance "${instanceId}"` });
    return c;
  }

  /** Polls the application's health until `accept` takes an answer, or the time is up (then the last answer is the error). */
  async function pollHealth<T>(timeoutSeconds: number, accept: (checks: AppHealthCheck[], checkedAt: string) => T | string): Promise<T> {
    const context = Context.current();
    const deadline = Date.now() + timeoutSeconds * 1000;
    let last = 'no answer yet';
    return withHeartbeat(async (beat) => {
      for (let attempt = 1; ; attempt++) {
        try {
          const health = await runtime.waitHealthy({ timeoutMs: Math.max(1000, deadline - Date.now()), intervalMs: 1000, signal: context.cancellationSignal });
          const verdict = accept(health.checks, health.checkedAt);
          if (typeof verdict !== 'string') return verdict;
          last = verdict;
        } catch (error) {
          last = (error as Error).message;
        }
        beat({ attempt, last });
        if (context.cancellationSignal.aborted) {
          await context.cancelled;
        }
        if (Date.now() >= deadline) throw ApplicationFailure.create({ type: FailureType.AppNotHealthy, message: `after ${timeoutSeconds} s: ${last}` });
        await sleep(1000, context.cancellationSignal);
      }
    });
  }

  return {
    async pointAppAtCache(input: { instanceId: string }): Promise<PointAppResult> {
      const c = await connectionOf(input.instanceId);
      const secret = await secrets.write(connectionSecret, redisUrlOf(c));
      try {
        return await runtime.pointAppAtCache({ cache: input.instanceId, endpoint: { host: c.host, port: c.port, tls: c.tls }, secret: { name: secret.name, version: secret.version } });
      } catch (error) {
        if (error instanceof AppRuntimeRefusedError) throw ApplicationFailure.create({ type: FailureType.InvalidPlan, nonRetryable: true, message: error.message });
        throw error;
      }
    },

    /** Waits until the application answers healthy and its cache check reaches this instance. */
    async waitUntilAppUsesCache(input: { instanceId: string; timeoutSeconds?: number }): Promise<{ address: string; detail: string }> {
      const c = await connectionOf(input.instanceId);
      const address = `${c.host}:${c.port}`;
      return pollHealth(input.timeoutSeconds ?? 120, (checks) => {
        const check = checks.find((x) => x.name === 'connectivity: cache');
        if (!check) return 'the application reports no cache check (connectivity: cache)';
        if (check.figures?.address !== address) return `its cache is ${check.figures?.address ?? 'unknown'}, not ${address}`;
        return check.passed ? { address, detail: check.detail } : `its cache ${address} does not answer: ${check.detail}`;
      });
    },

    /** Seed 002's checks after a recovery, as the application runs them: connectivity, data integrity, functionality. */
    async runApplicationChecks(input: { timeoutSeconds?: number } = {}): Promise<ApplicationChecks> {
      let latest: ApplicationChecks | undefined;
      try {
        return await pollHealth(input.timeoutSeconds ?? 60, (checks, checkedAt) => {
          latest = groupApplicationChecks(checks, checkedAt);
          return latest.passed ? latest : latest.groups.filter((g) => !g.passed).map((g) => `${g.group}: ${g.checks.filter((c) => !c.passed).map((c) => c.detail).join('; ')}`).join(' | ');
        });
      } catch (error) {
        // The last answer is the result: the workflow decides, and the report shows every check.
        if (latest) return latest;
        throw error;
      }
    },
  };
}

export type AppCacheActivities = ReturnType<typeof createAppCacheActivities>;
