import path from 'node:path';
import YAML from 'yaml';
import { checkDuration, httpUrl, packagedBinary, requestJson, startPrometheusProjectServer, type PrometheusProjectServer } from './prometheus-project-server';

/** Debian's prometheus-alertmanager package names the binary prometheus-alertmanager (override: DR_ALERTMANAGER_BIN). */
export const alertmanagerBinary = () => packagedBinary('DR_ALERTMANAGER_BIN', '/usr/bin/prometheus-alertmanager', 'prometheus-alertmanager');
/** amtool, from the same package (override: DR_AMTOOL_BIN). */
export const amtoolBinary = () => packagedBinary('DR_AMTOOL_BIN', '/usr/bin/amtool', 'prometheus-alertmanager');

export interface AlertmanagerOptions {
  stateDir: string;
  /** Where every notification goes, in Alertmanager's webhook format (version "4"). */
  webhookUrl: string;
  /** Default "dr-runbooks"; the webhook payload's `receiver`. */
  receiverName?: string;
  /**
   * Labels that make one alert group, i.e. one notification thread and one groupKey. Default
   * alertname, environment, database: one incident per failing database.
   */
  groupBy?: string[];
  /** Alertmanager's defaults: 30s, 5m, 4h. Tests use about 1s, 1s, 2s. */
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  /** Also notify when the group resolves; default true (the runbook notes it on its timeline). */
  sendResolved?: boolean;
  /**
   * How Alertmanager authenticates to the webhook (http_config): a bearer token or basic auth, each read
   * from a file (credentials_file / password_file), so no secret is written into alertmanager.yml.
   */
  webhookAuth?: { bearerTokenFile: string } | { basicAuth: { username: string; passwordFile: string } };
  /** Loopback port; a free one when omitted. */
  port?: number;
  startTimeoutMs?: number;
}

/** An alert as Alertmanager's /api/v2/alerts reports it. */
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  fingerprint: string;
  generatorURL?: string;
  status: { state: 'active' | 'suppressed' | 'unprocessed'; silencedBy: string[]; inhibitedBy: string[] };
  receivers: Array<{ name: string }>;
}

/** Its `url` is what Prometheus takes as an alertmanager URL. */
export interface AlertmanagerServer extends PrometheusProjectServer {
  /** Alerts it holds (/api/v2/alerts), optionally filtered by matchers such as 'alertname="X"'. */
  alerts(matchers?: string[]): Promise<AlertmanagerAlert[]>;
}

/** The alertmanager.yml for these options; validated, so a bad option fails here naming the field. */
export function alertmanagerConfig(options: Omit<AlertmanagerOptions, 'stateDir' | 'port' | 'startTimeoutMs'>): string {
  const url = httpUrl(options.webhookUrl, 'webhookUrl', 'http://127.0.0.1:8080/alerts');
  const receiver = options.receiverName ?? 'dr-runbooks';
  const groupBy = options.groupBy ?? ['alertname', 'environment', 'database'];
  groupBy.forEach((label, i) => {
    if (label !== '...' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(label)) throw new Error(`groupBy[${i}]: "${label}" is not a label name`);
  });
  const config = {
    route: {
      receiver,
      group_by: groupBy,
      group_wait: checkDuration(options.groupWait ?? '30s', 'groupWait'),
      group_interval: checkDuration(options.groupInterval ?? '5m', 'groupInterval'),
      repeat_interval: checkDuration(options.repeatInterval ?? '4h', 'repeatInterval'),
    },
    receivers: [{ name: receiver, webhook_configs: [{ url: url.href, send_resolved: options.sendResolved ?? true, ...httpConfigOf(options.webhookAuth) }] }],
  };
  return '# Written by dr-runbooks (stack/alertmanager.ts); rewritten at every start.\n' + YAML.stringify(config);
}

function httpConfigOf(auth: AlertmanagerOptions['webhookAuth']): { http_config?: Record<string, unknown> } {
  if (!auth) return {};
  if ('bearerTokenFile' in auth) return { http_config: { authorization: { type: 'Bearer', credentials_file: path.resolve(auth.bearerTokenFile) } } };
  return { http_config: { basic_auth: { username: auth.basicAuth.username, password_file: path.resolve(auth.basicAuth.passwordFile) } } };
}

/**
 * Starts a real Alertmanager (Debian's package) on 127.0.0.1 that sends every alert group to one
 * webhook, with clustering off (no gossip port), its own state under `stateDir`, and waits until it
 * is ready. Stops an Alertmanager a killed earlier run left on the same state directory first.
 */
export async function startAlertmanager(options: AlertmanagerOptions): Promise<AlertmanagerServer> {
  const server = await startPrometheusProjectServer({
    name: 'Alertmanager',
    binary: alertmanagerBinary(),
    stateDir: options.stateDir,
    configFileName: 'alertmanager.yml',
    configText: alertmanagerConfig(options),
    port: options.port,
    startTimeoutMs: options.startTimeoutMs,
    args: ({ port, url, stateDir }) => [
      `--storage.path=${path.join(stateDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      // An empty address turns the cluster (gossip on 9094 by default) off: one Alertmanager, no peers.
      '--cluster.listen-address=',
    ],
  });
  return {
    ...server,
    async alerts(matchers = []) {
      const query = matchers.map((m) => `filter=${encodeURIComponent(m)}`).join('&');
      return requestJson<AlertmanagerAlert[]>(`${server.url}/api/v2/alerts${query ? `?${query}` : ''}`);
    },
  };
}
