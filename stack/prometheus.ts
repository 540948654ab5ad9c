import { existsSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { checkDuration, durationSeconds, httpUrl, packagedBinary, requestJson, startPrometheusProjectServer, type PrometheusProjectServer } from './prometheus-project-server';

/** Debian's prometheus package (override: DR_PROMETHEUS_BIN). */
export const prometheusBinary = () => packagedBinary('DR_PROMETHEUS_BIN', '/usr/bin/prometheus', 'prometheus');
/** promtool, shipped beside prometheus in the same package (override: DR_PROMTOOL_BIN). */
export const promtoolBinary = () => packagedBinary('DR_PROMTOOL_BIN', '/usr/bin/promtool', 'prometheus');

export interface ScrapeTarget {
  /** The scrape job; every series scraped from these targets carries job="<job>". */
  job: string;
  /** host:port of each target. */
  targets: string[];
  /** Default /metrics. */
  metricsPath?: string;
  /** Extra labels on every series of these targets. */
  labels?: Record<string, string>;
}

export interface PrometheusOptions {
  stateDir: string;
  scrapeTargets: ScrapeTarget[];
  /** Alerting and recording rule files (absolute, or relative to the working directory). */
  ruleFiles?: string[];
  /** Alertmanagers to send alerts to, by base URL (http://127.0.0.1:9093). */
  alertmanagerUrls?: string[];
  /** Default 15s, Prometheus's own; tests use 1s. */
  scrapeInterval?: string;
  /** Default 15s; tests use 1s. */
  evaluationInterval?: string;
  /** How often a still-firing alert is re-sent to Alertmanager (default 1m, Prometheus's own). */
  alertResendDelay?: string;
  /** Loopback port; a free one when omitted. */
  port?: number;
  startTimeoutMs?: number;
}

/** One element of an instant vector. */
export interface PrometheusSample {
  labels: Record<string, string>;
  value: number;
  /** Evaluation time, seconds since the epoch. */
  timestamp: number;
}

/** An alert as Prometheus's /api/v1/alerts reports it. */
export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

/** A rule group as Prometheus's /api/v1/rules reports it. */
export interface PrometheusRuleGroup {
  name: string;
  file: string;
  /** When the group was last evaluated (RFC 3339). */
  lastEvaluation: string;
  rules: Array<{ name: string; type: 'alerting' | 'recording'; state?: 'inactive' | 'pending' | 'firing'; health: 'ok' | 'err' | 'unknown'; lastError?: string; lastEvaluation: string }>;
}

export interface PrometheusServer extends PrometheusProjectServer {
  /** Instant query (/api/v1/query); a scalar comes back as one sample without labels. */
  query(expr: string): Promise<PrometheusSample[]>;
  /** Pending and firing alerts (/api/v1/alerts). */
  alerts(): Promise<PrometheusAlert[]>;
  /** The loaded rule groups, their health and when each was last evaluated (/api/v1/rules). */
  rules(): Promise<PrometheusRuleGroup[]>;
}

/** The prometheus.yml for these options; validated, so a bad option fails here naming the field. */
export function prometheusConfig(options: Pick<PrometheusOptions, 'scrapeTargets' | 'ruleFiles' | 'alertmanagerUrls' | 'scrapeInterval' | 'evaluationInterval'>): string {
  const scrapeInterval = checkDuration(options.scrapeInterval ?? '15s', 'scrapeInterval');
  const evaluationInterval = checkDuration(options.evaluationInterval ?? '15s', 'evaluationInterval');
  const jobs = new Set<string>();
  const scrapeConfigs = options.scrapeTargets.map((target, i) => {
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(target.job)) throw new Error(`scrapeTargets[${i}].job: "${target.job}" is not a job name (letters, digits, _ and -)`);
    if (jobs.has(target.job)) throw new Error(`scrapeTargets[${i}].job: "${target.job}" is used twice; job names must be unique`);
    jobs.add(target.job);
    if (target.targets.length === 0) throw new Error(`scrapeTargets[${i}].targets: empty; give at least one host:port`);
    target.targets.forEach((t, j) => {
      if (!/^[^\s/:]+:\d{1,5}$/.test(t)) throw new Error(`scrapeTargets[${i}].targets[${j}]: "${t}" is not host:port`);
    });
    return {
      job_name: target.job,
      metrics_path: target.metricsPath ?? '/metrics',
      // A scrape may not take longer than its interval; Prometheus's default timeout is 10s.
      scrape_timeout: shorterOf(scrapeInterval, '10s'),
      static_configs: [{ targets: target.targets, ...(target.labels ? { labels: target.labels } : {}) }],
    };
  });
  const ruleFiles = (options.ruleFiles ?? []).map((file, i) => {
    const absolute = path.resolve(file);
    if (!existsSync(absolute)) throw new Error(`ruleFiles[${i}]: ${absolute} does not exist`);
    return absolute;
  });
  const alertmanagers = (options.alertmanagerUrls ?? []).map((raw, i) => {
    const url = httpUrl(raw, `alertmanagerUrls[${i}]`, 'http://127.0.0.1:9093');
    return { scheme: url.protocol.slice(0, -1), path_prefix: url.pathname, api_version: 'v2', static_configs: [{ targets: [url.host] }] };
  });
  const config = {
    global: { scrape_interval: scrapeInterval, evaluation_interval: evaluationInterval },
    ...(ruleFiles.length ? { rule_files: ruleFiles } : {}),
    ...(alertmanagers.length ? { alerting: { alertmanagers } } : {}),
    scrape_configs: scrapeConfigs,
  };
  return '# Written by dr-runbooks (stack/prometheus.ts); rewritten at every start.\n' + YAML.stringify(config);
}

/**
 * Starts a real Prometheus (Debian's package) on 127.0.0.1 with its own config and TSDB under
 * `stateDir`, and waits until it is ready. Stops a Prometheus a killed earlier run left on the same
 * state directory first.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const resendDelay = checkDuration(options.alertResendDelay ?? '1m', 'alertResendDelay');
  const server = await startPrometheusProjectServer({
    name: 'Prometheus',
    binary: prometheusBinary(),
    stateDir: options.stateDir,
    configFileName: 'prometheus.yml',
    configText: prometheusConfig(options),
    port: options.port,
    startTimeoutMs: options.startTimeoutMs,
    args: ({ port, url, stateDir }) => [
      `--storage.tsdb.path=${path.join(stateDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      '--web.enable-lifecycle',
      `--rules.alert.resend-delay=${resendDelay}`,
    ],
  });
  const { url } = server;
  return {
    ...server,
    async query(expr) {
      const body = await requestJson<QueryResponse>(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      if (body.status !== 'success' || !body.data) throw new Error(`query ${expr}: ${body.errorType ?? 'error'}: ${body.error ?? 'no data'}`);
      const { resultType, result } = body.data;
      if (resultType === 'scalar') {
        const [ts, v] = result as [number, string];
        return [{ labels: {}, value: Number(v), timestamp: ts }];
      }
      if (resultType !== 'vector') throw new Error(`query ${expr}: a ${resultType} result; query() answers instant vectors and scalars only`);
      return (result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((s) => ({ labels: s.metric, value: Number(s.value[1]), timestamp: s.value[0] }));
    },
    async alerts() {
      const body = await requestJson<{ status: string; data: { alerts: PrometheusAlert[] } }>(`${url}/api/v1/alerts`);
      return body.data.alerts;
    },
    async rules() {
      const body = await requestJson<{ status: string; data: { groups: PrometheusRuleGroup[] } }>(`${url}/api/v1/rules`);
      return body.data.groups;
    },
  };
}

interface QueryResponse {
  status: 'success' | 'error';
  data?: { resultType: 'vector' | 'scalar' | 'matrix' | 'string'; result: unknown };
  errorType?: string;
  error?: string;
}

function shorterOf(a: string, b: string): string {
  return durationSeconds(a) <= durationSeconds(b) ? a : b;
}
