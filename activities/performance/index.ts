import { activityContext, withHeartbeat } from '../activity-context';
import type { DatabaseConnections } from '../database-connections';
import type { CachePlatform } from '../ports/cache-platform';
import type { ObjectStore } from '../ports/object-store';
import { runPgbench, type PgbenchFigures } from './pgbench';
import { runRedisBenchmark, type RedisBenchmarkFigures } from './redis-benchmark';

/** One short measurement of each system: what `pgbench` and `redis-benchmark` answered, or why they could not. */
export interface PerformanceFigures {
  measuredAt: string;
  database?: { name: string; pgbench?: PgbenchFigures; error?: string };
  cache?: { instanceId: string; redisBenchmark?: RedisBenchmarkFigures; error?: string };
}

/** A measurement beside the figures captured at backup time. */
export interface PerformanceComparison {
  measuredAt: string;
  baselineKey: string;
  baselineCapturedAt?: string;
  /** now / baseline at or above this is within the baseline. */
  minimumRatio: number;
  lines: Array<{ system: 'database' | 'cache'; measure: string; now?: number; baseline?: number; ratio?: number; withinBaseline?: boolean; detail: string }>;
  figures: PerformanceFigures;
}

export const performanceBaselineKey = (name: string) => `performance-baselines/${encodeURIComponent(name)}.json`;

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export interface PerformanceWiring {
  databases: Pick<DatabaseConnections, 'connection'>;
  cache: CachePlatform;
  objectStore: ObjectStore;
  /** Short by design: a check, not a load test (defaults: 2 s of pgbench with 2 clients, 5000 redis requests with 10). */
  pgbench?: { seconds: number; clients: number };
  redisBenchmark?: { requests: number; clients: number };
}

/**
 * The seed's performance benchmarks as a validation step: a short read-only pgbench of the application's
 * balance lookup and a short redis-benchmark (GET, PING), captured at backup time as a baseline and
 * measured again on what a recovery built. A figure that cannot be measured is reported as such.
 */
export function createPerformanceActivities({ databases, cache, objectStore, pgbench = { seconds: 2, clients: 2 }, redisBenchmark = { requests: 5000, clients: 10 } }: PerformanceWiring) {
  async function measure(input: { database?: string; cacheInstanceId?: string }): Promise<PerformanceFigures> {
    // Also run outside a worker (a backup job capturing the baseline, the tests).
    const signal = activityContext()?.cancellationSignal;
    return withHeartbeat(async (beat) => {
      const figures: PerformanceFigures = { measuredAt: new Date().toISOString() };
      if (input.database) {
        beat({ phase: 'pgbench', database: input.database });
        try {
          figures.database = { name: input.database, pgbench: await runPgbench(await databases.connection(input.database), { ...pgbench, signal }) };
        } catch (error) {
          figures.database = { name: input.database, error: (error as Error).message };
        }
      }
      if (input.cacheInstanceId) {
        beat({ phase: 'redis-benchmark', cache: input.cacheInstanceId });
        try {
          const connection = await cache.connectionFor(input.cacheInstanceId);
          if (!connection) throw new Error(`the cache platform has no instance "${input.cacheInstanceId}"`);
          figures.cache = { instanceId: input.cacheInstanceId, redisBenchmark: await runRedisBenchmark(connection, { ...redisBenchmark, signal }) };
        } catch (error) {
          figures.cache = { instanceId: input.cacheInstanceId, error: (error as Error).message };
        }
      }
      return figures;
    }, { initial: { phase: 'starting' } });
  }

  return {
    /** Measures production at backup time and keeps the figures (performance-baselines/<key>.json) for later comparison. */
    async recordPerformanceBaseline(input: { key: string; database?: string; cacheInstanceId?: string }): Promise<PerformanceFigures & { key: string }> {
      const figures = await measure(input);
      await objectStore.put(performanceBaselineKey(input.key), `${JSON.stringify(figures, null, 2)}\n`, 'application/json');
      return { ...figures, key: performanceBaselineKey(input.key) };
    },

    /** Measures what a recovery built and compares it with the baseline captured at backup time. */
    async comparePerformanceWithBaseline(input: { baselineKey: string; database?: string; cacheInstanceId?: string; minimumRatio?: number }): Promise<PerformanceComparison> {
      const minimumRatio = input.minimumRatio ?? 0.5;
      const stored = await objectStore.get(performanceBaselineKey(input.baselineKey));
      const baseline = stored ? (JSON.parse(stored.toString('utf8')) as PerformanceFigures) : undefined;
      const figures = await measure(input);
      const lines: PerformanceComparison['lines'] = [];
      const compare = (system: 'database' | 'cache', measure: string, now: number | undefined, before: number | undefined, error: string | undefined, unit: string) => {
        if (now === undefined) return lines.push({ system, measure, detail: `${measure}: not measured (${error ?? 'no figure'})` });
        if (before === undefined) return lines.push({ system, measure, now, detail: `${measure}: ${round(now, 0)} ${unit} (no baseline captured at backup time)` });
        const ratio = round(now / before);
        const withinBaseline = ratio >= minimumRatio;
        return lines.push({ system, measure, now, baseline: before, ratio, withinBaseline, detail: `${measure}: ${round(now, 0)} ${unit}, ${ratio}× the ${round(before, 0)} ${unit} at backup time${withinBaseline ? '' : ` (below ${minimumRatio}×)`}` });
      };
      if (input.database) compare('database', 'pgbench balance lookups', figures.database?.pgbench?.tps, baseline?.database?.pgbench?.tps, figures.database?.error, 'tps');
      if (input.cacheInstanceId) {
        const rps = (f?: RedisBenchmarkFigures) => f?.commands.find((c) => c.command === 'GET')?.rps;
        compare('cache', 'redis-benchmark GET', rps(figures.cache?.redisBenchmark), rps(baseline?.cache?.redisBenchmark), figures.cache?.error, 'requests/s');
      }
      return { measuredAt: figures.measuredAt, baselineKey: performanceBaselineKey(input.baselineKey), ...(baseline ? { baselineCapturedAt: baseline.measuredAt } : {}), minimumRatio, lines, figures };
    },
  };
}

export type PerformanceActivities = ReturnType<typeof createPerformanceActivities>;
