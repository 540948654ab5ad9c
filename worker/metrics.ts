import http from 'node:http';
import { listenOn } from '../lib/http-listen';
import type { Monitoring, MonitoringSettings } from '../activities/monitoring';
import { durationToMs } from '../contracts/durations';
import type { WorkerConfig } from './config';

/**
 * The worker's /metrics: ONE endpoint per worker for Prometheus to scrape. It serves our series
 * (config/alerts/METRICS.md, from the metrics adapter) followed by the Temporal SDK's own runtime
 * metrics (temporal_*), which the SDK's Core exports on an internal loopback address
 * (`runtimeMetricsAddress`, set up with Runtime.install in worker/main.ts) and which are read at each
 * scrape. Why one and not two: one target per worker, one port to open and secure, the runtime and the DR
 * series under the same job and instance labels; and ours cannot live in the SDK's registry, whose
 * series can never be removed (a measurement that cannot be made must drop its series, not leave the
 * last value standing).
 */

export interface MetricsSource {
  contentType: string;
  exposition(): Promise<string>;
}

export interface MetricsEndpoint {
  /** http://host:port/metrics */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** How long a scrape waits for the SDK's runtime metrics before serving ours alone. */
const runtimeMetricsTimeoutMs = 2_000;

async function runtimeMetrics(address: string): Promise<string> {
  try {
    const response = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(runtimeMetricsTimeoutMs) });
    if (!response.ok) return `# the Temporal SDK's runtime metrics answered HTTP ${response.status}\n`;
    const text = await response.text();
    return text.endsWith('\n') || text === '' ? text : `${text}\n`;
  } catch (error) {
    return `# the Temporal SDK's runtime metrics are unavailable: ${(error as Error).message.replace(/\s+/g, ' ')}\n`;
  }
}

/** Serves GET /metrics on `listen` (config metrics.listen); a port in use fails naming the key. */
export async function startMetricsEndpoint(options: { listen: string; source: MetricsSource; runtimeMetricsAddress?: string }): Promise<MetricsEndpoint> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('GET /metrics\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('the metrics are at /metrics\n');
      return;
    }
    void (async () => {
      try {
        const ours = await options.source.exposition();
        const runtime = options.runtimeMetricsAddress ? await runtimeMetrics(options.runtimeMetricsAddress) : '';
        res.writeHead(200, { 'content-type': options.source.contentType }).end(req.method === 'HEAD' ? undefined : ours + runtime);
      } catch (error) {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${(error as Error).message}\n`);
      }
    })();
  });
  const listening = await listenOn(server, options.listen, 'metrics.listen');
  return { url: `${listening.baseUrl}/metrics`, port: listening.port, close: listening.close };
}

/** The monitoring settings the config asks for (defaults: every database but the audit one, the RPO as backup objective); nothing to watch without `metrics`. */
export function monitoringSettings(config: WorkerConfig): MonitoringSettings {
  const metrics = config.metrics;
  const rpoSeconds = durationToMs(config.objectives.default.rpo) / 1000;
  return {
    databases: !metrics ? [] : metrics.databases ?? Object.keys(config.databases).filter((name) => name !== config.audit?.database),
    probeTimeoutMs: durationToMs(metrics?.timeout ?? '5 seconds'),
    integrityTimeoutMs: 60_000,
    backupMaxAgeSeconds: metrics?.backupMaxAge ? durationToMs(metrics.backupMaxAge) / 1000 : rpoSeconds,
    rpoObjectiveSeconds: rpoSeconds,
    replicas: metrics?.replicas ?? [],
  };
}

/** Runs `task` now and then `everyMs` after each run ends (never two at once); stop() waits for the one in flight. */
function repeat(task: () => Promise<void>, everyMs: number): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = task().catch(() => undefined).finally(() => {
      if (stopped) return;
      timer = setTimeout(tick, everyMs);
      timer.unref();
    });
  };
  tick();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}

/** The measurements on their intervals (config metrics.interval, integrityInterval, backupInterval). */
export function startMonitoring(monitoring: Monitoring, config: NonNullable<WorkerConfig['metrics']>): () => Promise<void> {
  const every = durationToMs(config.interval);
  const stops = [
    repeat(() => monitoring.probeDatabases(), every),
    repeat(() => monitoring.measureWalArchive(), every),
    repeat(() => monitoring.measureReplicas(), every),
    repeat(() => monitoring.measureBackups(), durationToMs(config.backupInterval)),
    repeat(() => monitoring.checkIntegrity(), durationToMs(config.integrityInterval)),
  ];
  return async () => {
    await Promise.all(stops.map((stop) => stop()));
  };
}

/** Logs a monitoring problem once, and again only when it changes (a dead database would say the same every interval). */
export function problemLogger(log: (line: string) => void): (what: string, error: unknown) => void {
  const last = new Map<string, string>();
  return (what, error) => {
    const message = (error as Error)?.message ?? String(error);
    if (last.get(what) === message) return;
    last.set(what, message);
    log(`worker: metrics: ${what}: ${message}`);
  };
}
