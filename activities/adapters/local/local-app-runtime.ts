import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { AppHealth, AppPointer, AppRuntime, PointAppResult, RestartResult, WaitHealthyOptions } from '../../ports/app-runtime';
import type { SecretStore } from '../../ports/secret-store';
import { writeFileAtomic } from '../../../lib/atomic-file';
import { endpointOfUrl, formatEndpoint } from '../../../lib/postgres-url';
import { errorText } from '../../../contracts/error-text';
import { formatEnvFile, parseEnvFile } from './env-file';

export interface LocalAppRuntimeOptions {
  /** The env file holding DATABASE_URL; the previous version is kept as `<envFile>.previous`. */
  envFile: string;
  port: number;
  /** The service command without its flags (config `app.command`; the local stack names the demo service). */
  command: string[];
  /** Where the service runs (config `app.workingDirectory`); default: the env file's directory. */
  workingDirectory?: string;
  /** Where the application's database connection secrets are read (the versions pointAppAt is given). */
  secrets: SecretStore;
  /** Defaults to http://127.0.0.1:<port>/health/database. */
  healthUrl?: string;
  /** Passed to the service as --dns-file, so it resolves its database host through the mapping. */
  dnsFile?: string;
  pidFile?: string;
  logFile?: string;
  /** Extra environment of the service's process (config app.environment). */
  environment?: Record<string, string>;
}

export interface LocalAppRuntime extends AppRuntime {
  /** Stops the service if it runs (by its pid file); used by scale(0) and by tests' cleanup. */
  stop(): Promise<number[]>;
  readonly pidFile: string;
  readonly logFile: string;
}

/** What the demo service's /health/database answers when healthy. */
interface HealthBody {
  database: AppHealth['database'];
  checkedAt: string;
  serverVersion: string;
  userCount: number;
  transactionCount: number;
  totalAmount: string;
  error?: string;
  /** The service's own checks (connectivity, data integrity, functionality), when it runs them. */
  checks?: AppHealth['checks'];
}

/** The service's answer as the port's named checks: its integrity totals, then the checks it runs itself. */
function healthOf(body: HealthBody): AppHealth {
  const { database, checkedAt, serverVersion, userCount, transactionCount, totalAmount } = body;
  return {
    database,
    checkedAt,
    checks: [
      { name: 'integrity totals', passed: true, detail: `users ${userCount}, transactions ${transactionCount}, total ${totalAmount}`, figures: { userCount, transactionCount, totalAmount, serverVersion } },
      ...(body.checks ?? []),
    ],
  };
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

/** A zombie still answers kill(pid, 0), so /proc is asked where it exists. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Only a process whose command line names our service may be signalled: a stale pid file can name anything. */
function isOurService(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
  } catch {
    return existsSync('/proc') ? false : true;
  }
}

function pointerOf(text: string | undefined): AppPointer | null {
  if (text === undefined) return null;
  const vars = parseEnvFile(text);
  if (!vars.DATABASE_URL) return null;
  return { endpoint: formatEndpoint(endpointOfUrl(vars.DATABASE_URL)), name: vars.DR_DATABASE_NAME ?? null };
}

function cachePointerOf(text: string | undefined): AppPointer | null {
  const vars = text === undefined ? {} : parseEnvFile(text);
  if (!vars.REDIS_URL) return null;
  const url = new URL(vars.REDIS_URL);
  return { endpoint: `${url.hostname}:${url.port || 6379}`, name: vars.DR_CACHE_NAME ?? null };
}

/** The variables one pointer owns in the env file; a pointer change keeps the other's. */
const databaseVars = ['DATABASE_URL', 'DR_DATABASE_NAME'];
const cacheVars = ['REDIS_URL', 'DR_CACHE_NAME'];

/**
 * Local AppRuntime: the demo financial service as one detached process. Supports 0 or 1 replicas:
 * a second process would need its own port, and the runbooks only need "running" or "stopped".
 */
export function createLocalAppRuntime(options: LocalAppRuntimeOptions): LocalAppRuntime {
  const envFile = path.resolve(options.envFile);
  const previousFile = `${envFile}.previous`;
  const pidFile = path.resolve(options.pidFile ?? `${envFile}.${options.port}.pid`);
  const logFile = path.resolve(options.logFile ?? `${envFile}.${options.port}.log`);
  const healthUrl = options.healthUrl ?? `http://127.0.0.1:${options.port}/health/database`;
  const command = options.command;
  if (command.length === 0) throw new Error('app.command: the command that starts the application is empty');
  const cwd = path.resolve(options.workingDirectory ?? path.dirname(envFile));
  const marker = path.basename(command[command.length - 1]!);
  const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : undefined);

  function runningPid(): number | undefined {
    const pid = Number(read(pidFile)?.trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    if (isRunning(pid) && isOurService(pid, marker)) return pid;
    rmSync(pidFile, { force: true }); // stale: its process is gone or is not ours
    return undefined;
  }

  async function stop(): Promise<number[]> {
    const pid = runningPid();
    if (!pid) return [];
    process.kill(pid, 'SIGTERM');
    for (let waited = 0; isRunning(pid); waited += 100) {
      if (waited === 10_000) process.kill(pid, 'SIGKILL');
      if (waited > 15_000) throw new Error(`the financial service (pid ${pid}) did not stop within 15 s of SIGTERM and SIGKILL`);
      await sleep(100);
    }
    if (read(pidFile)?.trim() === String(pid)) rmSync(pidFile, { force: true });
    return [pid];
  }

  function start(): number {
    if (!existsSync(envFile)) throw new Error(`cannot start the financial service: its env file ${envFile} does not exist (point the app at a database first)`);
    const log = openSync(logFile, 'a');
    try {
      const args = [...command.slice(1), '--env-file', envFile, '--port', String(options.port), '--pid-file', pidFile, ...(options.dnsFile ? ['--dns-file', path.resolve(options.dnsFile)] : [])];
      const child = spawn(command[0]!, args, { cwd, detached: true, stdio: ['ignore', log, log], env: { ...process.env, ...options.environment } });
      if (!child.pid) throw new Error(`could not start ${command.join(' ')}`);
      child.unref();
      return child.pid;
    } finally {
      closeSync(log);
    }
  }

  async function point(text: string, keepPrevious: boolean, pointer = pointerOf, key = 'DATABASE_URL'): Promise<PointAppResult> {
    const currentText = read(envFile);
    const current = pointer(currentText);
    const next = pointer(text)!;
    if (currentText !== undefined && parseEnvFile(currentText)[key] === parseEnvFile(text)[key]) {
      return { current: next, previous: pointer(read(previousFile)), changed: false };
    }
    if (keepPrevious && currentText !== undefined) writeFileAtomic(previousFile, currentText);
    writeFileAtomic(envFile, text);
    return { current: next, previous: current, changed: true };
  }

  /** The env file with one pointer's variables replaced and everything else kept. */
  function withVars(owned: string[], vars: Record<string, string>, header: string): string {
    const currentText = read(envFile);
    const kept = Object.fromEntries(Object.entries(currentText === undefined ? {} : parseEnvFile(currentText)).filter(([name]) => !owned.includes(name)));
    return formatEnvFile({ ...kept, ...vars }, header);
  }

  return {
    pidFile,
    logFile,
    stop,

    async pointAppAt(target) {
      const connection = await options.secrets.read(target.secret);
      const text = withVars(databaseVars, { DATABASE_URL: connection.value, DR_DATABASE_NAME: target.database }, `Written by dr-runbooks: the demo financial service's database (${target.database}).`);
      return point(text, true);
    },

    async pointAppAtCache(target) {
      const connection = await options.secrets.read(target.secret);
      const text = withVars(cacheVars, { REDIS_URL: connection.value, DR_CACHE_NAME: target.cache }, `Written by dr-runbooks: the demo financial service's database and cache (${target.cache}).`);
      return point(text, true, cachePointerOf, 'REDIS_URL');
    },

    async rollbackAppPointer() {
      const previous = read(previousFile);
      if (previous === undefined) throw new Error(`nothing to roll back to: ${previousFile} does not exist (the app was never re-pointed)`);
      return point(previous, false);
    },

    async currentPointer() {
      return pointerOf(read(envFile));
    },

    async restart(): Promise<RestartResult> {
      const restartedAt = new Date().toISOString();
      const stopped = await stop();
      return { restartedAt, stopped: stopped.map((pid) => `process ${pid}`), started: [`process ${start()}`] };
    },

    async waitHealthy(wait: WaitHealthyOptions): Promise<AppHealth> {
      const deadline = Date.now() + wait.timeoutMs;
      const want = wait.expect && `${wait.expect.address}/${wait.expect.database}${wait.expect.systemIdentifier ? ` (system ${wait.expect.systemIdentifier})` : ''}`;
      let last = 'no answer yet';
      for (let attempt = 1; ; attempt++) {
        try {
          const response = await fetch(healthUrl, { signal: AbortSignal.timeout(5000) });
          const body = (await response.json()) as HealthBody;
          const from = body.database ? `${body.database.address}/${body.database.database}` : 'an unknown database';
          if (response.status !== 200) {
            last = `HTTP ${response.status} from ${from}: ${body.error ?? 'no error message'}`;
          } else if (wait.expect && (body.database.address !== wait.expect.address || body.database.database !== wait.expect.database
            || (wait.expect.systemIdentifier && body.database.systemIdentifier !== wait.expect.systemIdentifier))) {
            last = `healthy, but from ${from} (system ${body.database.systemIdentifier}), not the expected one`;
          } else {
            return healthOf(body);
          }
        } catch (error) {
          last = `no answer from ${healthUrl}: ${errorText(error, { innermost: true })}`;
        }
        wait.onPoll?.(attempt, last);
        if (wait.signal?.aborted) throw new Error(`stopped waiting for the financial service: cancelled (last answer: ${last})`);
        if (Date.now() >= deadline) {
          const logTail = read(logFile)?.trimEnd().split('\n').slice(-3).join(' | ');
          throw new Error(`the financial service did not answer healthy${want ? ` from ${want}` : ''} within ${Math.round(wait.timeoutMs / 1000)} s; last answer: ${last}${logTail ? `; its log (${logFile}) ends: ${logTail}` : ''}`);
        }
        await sleep(Math.min(wait.intervalMs ?? 500, Math.max(deadline - Date.now(), 0)), wait.signal);
      }
    },

    async scale(replicas) {
      if (replicas !== 0 && replicas !== 1) throw new Error(`replicas: the local runtime runs 0 or 1 financial service process, not ${replicas}`);
      if (replicas === 0) await stop();
      else if (!runningPid()) start();
      return { replicas };
    },
  };
}
