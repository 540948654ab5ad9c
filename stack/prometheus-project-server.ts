import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sleep, spawnServer, tailOf, type ServerProcess } from '../lib/child-process';
import { forgetPid, recordPid, stopLeftoverProcess } from '../lib/leftover-process';
import { freePort, isListening } from '../lib/ports';
import { PrerequisiteError } from '../lib/prerequisite-error';

/**
 * What Prometheus and Alertmanager have in common: one binary from a Debian package, one config file
 * of ours under a state directory, a loopback port, `/-/ready` once they serve, `/-/reload` for a new
 * config. This module starts such a server, stopping first whatever a killed earlier run left on the
 * same state directory.
 */

export interface PrometheusProjectServerSpec {
  /** How the operator knows it: "Prometheus", "Alertmanager". */
  name: string;
  binary: string;
  stateDir: string;
  /** Our config, written to `configFileName` in the state directory at every start. */
  configFileName: string;
  configText: string;
  /** Loopback port; a free one when omitted (a chosen port that is taken is refused clearly). */
  port?: number;
  /** The server's flags but --config.file (added here: it is what tells a leftover of ours from any other process). */
  args(where: { port: number; url: string; stateDir: string }): string[];
  startTimeoutMs?: number;
}

export interface PrometheusProjectServer {
  /** Base URL, http://127.0.0.1:<port>. */
  url: string;
  port: number;
  configFile: string;
  process: ServerProcess;
  /** Re-reads the config file (POST /-/reload). */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

/** A binary from a Debian package, or the override the operator set. */
export function packagedBinary(envVar: string, defaultPath: string, debianPackage: string): string {
  const binary = process.env[envVar] ?? defaultPath;
  if (!existsSync(binary)) {
    throw new PrerequisiteError(`${path.basename(binary)} is not at ${binary}`, `run \`npm run bootstrap\` (apt-get install ${debianPackage}), or set ${envVar}`);
  }
  return binary;
}

const durationPattern = /^(\d+(ms|s|m|h|d|w|y))+$/;

/** Prometheus and Alertmanager durations ("1s", "1m30s"); anything else is refused naming the option. */
export function checkDuration(value: string, field: string): string {
  if (!durationPattern.test(value)) throw new Error(`${field}: "${value}" is not a duration like 1s, 30s, 5m or 1h30m`);
  return value;
}

const unitSeconds: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };

/** A duration checkDuration accepted, in seconds. */
export function durationSeconds(duration: string): number {
  let total = 0;
  for (const [, amount, unit] of duration.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) total += Number(amount) * (unitSeconds[unit as string] ?? 0);
  return total;
}

/** An http(s) URL option, parsed; anything else is refused naming the option. */
export function httpUrl(raw: string, field: string, example: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${field}: "${raw}" is not a URL like ${example}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${field}: "${raw}" must be http or https`);
  return url;
}

/** GET or POST a JSON API; a non-2xx answer becomes an error naming the URL, status and body. */
export async function requestJson<T>(url: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** Starts the server with its config and waits until `/-/ready` answers 200. */
export async function startPrometheusProjectServer(spec: PrometheusProjectServerSpec): Promise<PrometheusProjectServer> {
  const stateDir = path.resolve(spec.stateDir);
  mkdirSync(stateDir, { recursive: true });
  const configFile = path.join(stateDir, spec.configFileName);
  const pidFile = path.join(stateDir, `${path.basename(spec.binary)}.pid`);
  const configFlag = `--config.file=${configFile}`;
  await stopLeftoverProcess(pidFile, configFlag);
  const port = spec.port ?? (await freePort());
  if (spec.port !== undefined && (await isListening(port))) {
    throw new PrerequisiteError(`port ${port} on 127.0.0.1, wanted for ${spec.name}, is already in use`, `stop whatever listens there (ss -ltnp 'sport = :${port}') or leave the port unset to get a free one`);
  }
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(configFile, spec.configText);
  const logFile = path.join(stateDir, `${path.basename(spec.binary)}.log`);
  const proc = spawnServer(spec.binary, [configFlag, ...spec.args({ port, url, stateDir })], logFile);
  recordPid(pidFile, proc.pid);
  const stop = async () => {
    await proc.stop();
    forgetPid(pidFile, proc.pid);
  };
  const reload = async () => {
    const response = await fetch(`${url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
    const text = await response.text();
    if (!response.ok) throw new Error(`${spec.name} refused to reload ${configFile}: ${response.status} ${text.trim()}`);
  };

  let exitCode: number | null | undefined;
  void proc.exited.then((code) => { exitCode = code; });
  const timeoutMs = spec.startTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitCode !== undefined) {
      forgetPid(pidFile, proc.pid);
      throw new PrerequisiteError(`${spec.name} exited (code ${exitCode}) while starting (config ${configFile}, log ${logFile})`, 'read the log lines above: a bad config line or a taken port are the usual causes', tailOf(logFile));
    }
    if (await answersReady(url)) return { url, port, configFile, process: proc, reload, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new PrerequisiteError(`${spec.name} was not ready on ${url} within ${timeoutMs / 1000} s (log ${logFile})`, 'read the log lines above; check free memory and disk, then try again', tailOf(logFile));
    }
    await sleep(100);
  }
}

async function answersReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}
