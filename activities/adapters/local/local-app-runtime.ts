import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { RolloutFailedError, type AppPointer, type AppRuntime, type AppRuntimeNames, type PointAppResult, type RestartResult, type RolloutStatus, type RolloutWaitOptions, type WaitHealthyOptions } from '../../ports/app-runtime';
import type { SecretStore } from '../../ports/secret-store';
import { writeFileAtomic } from '../../../lib/atomic-file';
import { sleepUnlessAborted } from '../../../lib/child-process';
import { endpointOfUrl, formatEndpoint } from '../../../lib/postgres-url';
import { waitForHealthyAnswer } from '../app-health-endpoint';
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
  const secret = vars.DR_CONNECTION_SECRET && vars.DR_CONNECTION_VERSION ? { secret: { name: vars.DR_CONNECTION_SECRET, version: vars.DR_CONNECTION_VERSION } } : {};
  return { endpoint: formatEndpoint(endpointOfUrl(vars.DATABASE_URL)), name: vars.DR_DATABASE_NAME ?? null, ...secret };
}

const namesFor = (envFile: string): AppRuntimeNames => ({
  application: 'the application process',
  connection: `its env file ${path.basename(envFile)}`,
  restart: 'restart the application process',
  rolloutStatus: 'check the application process runs',
});

function cachePointerOf(text: string | undefined): AppPointer | null {
  const vars = text === undefined ? {} : parseEnvFile(text);
  if (!vars.REDIS_URL) return null;
  const url = new URL(vars.REDIS_URL);
  return { endpoint: `${url.hostname}:${url.port || 6379}`, name: vars.DR_CACHE_NAME ?? null };
}

/** The variables one pointer owns in the env file; a pointer change keeps the other's. */
const databaseVars = ['DATABASE_URL', 'DR_DATABASE_NAME', 'DR_CONNECTION_SECRET', 'DR_CONNECTION_VERSION'];
const cacheVars = ['REDIS_URL', 'DR_CACHE_NAME'];

/**
 * Local AppRuntime: the demo financial service as one detached process. Supports 0 or 1 replicas:
 * a second process would need its own port, and the runbooks only need "running" or "stopped".
 */
export function createLocalAppRuntime(options: LocalAppRuntimeOptions): LocalAppRuntime {
  const envFile = path.resolve(options.envFile);
  // Each pointer keeps its own previous copy, so pointing the cache does not lose the database's and a
  // database rollback leaves the cache where it is.
  const previousFile = `${envFile}.previous`;
  const previousCacheFile = `${envFile}.cache-previous`;
  const pidFile = path.resolve(options.pidFile ?? `${envFile}.${options.port}.pid`);
  const logFile = path.resolve(options.logFile ?? `${envFile}.${options.port}.log`);
  const healthUrl = options.healthUrl ?? `http://127.0.0.1:${options.port}/health/database`;
  const command = options.command;
  if (command.length === 0) throw new Error('app.command: the command that starts the application is empty');
  const cwd = path.resolve(options.workingDirectory ?? path.dirname(envFile));
  const marker = path.basename(command[command.length - 1]!);
  const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : undefined);
  const names = namesFor(envFile);
  const logTail = () => read(logFile)?.trimEnd().split('\n').slice(-3).join(' | ');

  function runningPid(): number | undefined {
    const pid = Number(read(pidFile)?.trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    if (isRunning(pid) && isOurService(pid, marker)) return pid;
    rmSync(pidFile, { force: true }); // stale: its process is gone or is not ours
    return undefined;
  }

  /** The process this runtime started last (in this worker), to tell "still starting" from "exited". */
  let lastStarted: number | undefined;

  async function stop(): Promise<number[]> {
    // A process started a moment ago has not written its pid file yet: this runtime still knows it (its own child).
    const starting = lastStarted !== undefined && isRunning(lastStarted) ? lastStarted : undefined;
    const pid = runningPid() ?? starting;
    if (!pid) return [];
    process.kill(pid, 'SIGTERM');
    for (let waited = 0; isRunning(pid); waited += 100) {
      if (waited === 10_000) process.kill(pid, 'SIGKILL');
      if (waited > 15_000) throw new Error(`the financial service (pid ${pid}) did not stop within 15 s of SIGTERM and SIGKILL`);
      await sleepUnlessAborted(100);
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
      lastStarted = child.pid;
      return child.pid;
    } finally {
      closeSync(log);
    }
  }

  async function rolledOut(wait: RolloutWaitOptions = {}): Promise<RolloutStatus> {
    // Rolled out: the process the last restart started listens (it writes its pid file then). One that
    // exits first (a bad command, a port taken) fails at once, with the end of its log.
    const deadline = Date.now() + (wait.timeoutMs ?? 30_000);
    const status = (pid: number | undefined): RolloutStatus => ({ application: names.application, desired: 1, updated: pid ? 1 : 0, available: pid ? 1 : 0, message: pid ? `process ${pid} is running` : 'the application process is starting' });
    for (;;) {
      const pid = runningPid();
      wait.onProgress?.(status(pid));
      if (pid && (lastStarted === undefined || pid === lastStarted)) return status(pid);
      const exited = lastStarted !== undefined && !isRunning(lastStarted);
      if (exited || Date.now() >= deadline || wait.signal?.aborted) {
        const why = exited ? `process ${lastStarted} exited before it listened` : wait.signal?.aborted ? 'the wait was cancelled' : `no process listened within ${Math.round((wait.timeoutMs ?? 30_000) / 1000)} s`;
        throw new RolloutFailedError(`the application process is not running: ${why}${logTail() ? `; its log (${logFile}) ends: ${logTail()}` : ''}`, { ...status(undefined), message: why });
      }
      await sleepUnlessAborted(Math.min(wait.intervalMs ?? 200, 200), wait.signal);
    }
  }

  /** Writes the env file unless the pointer's variables (its `keys`) are already those; keeps the file it replaces. */
  async function point(text: string, keepPrevious: boolean, pointer = pointerOf, keys = ['DATABASE_URL', 'DR_CONNECTION_VERSION'], keptIn = previousFile): Promise<PointAppResult> {
    const currentText = read(envFile);
    const current = pointer(currentText);
    const next = pointer(text)!;
    const same = (a: Record<string, string>, b: Record<string, string>) => keys.every((key) => a[key] === b[key]);
    if (currentText !== undefined && same(parseEnvFile(currentText), parseEnvFile(text))) {
      return { current: next, previous: pointer(read(keptIn)), changed: false, runtime: names };
    }
    if (keepPrevious && currentText !== undefined) writeFileAtomic(keptIn, currentText);
    writeFileAtomic(envFile, text);
    return { current: next, previous: current, changed: true, runtime: names };
  }

  /** The env file with one pointer's variables replaced and everything else kept. */
  function withVars(owned: string[], vars: Record<string, string>, header: string): string {
    const currentText = read(envFile);
    const kept = Object.fromEntries(Object.entries(currentText === undefined ? {} : parseEnvFile(currentText)).filter(([name]) => !owned.includes(name)));
    return formatEnvFile({ ...kept, ...vars }, header);
  }

  return {
    names,
    pidFile,
    logFile,
    stop,

    async pointAppAt(target) {
      const connection = await options.secrets.read(target.secret);
      const text = withVars(
        databaseVars,
        { DATABASE_URL: connection.value, DR_DATABASE_NAME: target.database, DR_CONNECTION_SECRET: connection.name, DR_CONNECTION_VERSION: connection.version },
        `Written by dr-runbooks: the demo financial service's database (${target.database}).`,
      );
      return point(text, true);
    },

    async adoptCurrentConnection(secretName) {
      const text = read(envFile);
      const vars = text === undefined ? {} : parseEnvFile(text);
      if (!vars.DATABASE_URL) return null;
      if (vars.DR_CONNECTION_SECRET === secretName && vars.DR_CONNECTION_VERSION) {
        const kept = await options.secrets.read({ name: secretName, version: vars.DR_CONNECTION_VERSION }).catch(() => undefined);
        if (kept?.value === vars.DATABASE_URL) return { name: secretName, version: kept.version };
      }
      // Written by hand (or by an older version): keep it as a version, so there is one to go back to.
      const adopted = await options.secrets.write(secretName, vars.DATABASE_URL);
      writeFileAtomic(envFile, formatEnvFile({ ...vars, DR_CONNECTION_SECRET: adopted.name, DR_CONNECTION_VERSION: adopted.version }));
      return { name: adopted.name, version: adopted.version };
    },

    async pointAppAtCache(target) {
      const connection = await options.secrets.read(target.secret);
      const text = withVars(cacheVars, { REDIS_URL: connection.value, DR_CACHE_NAME: target.cache }, `Written by dr-runbooks: the demo financial service's database and cache (${target.cache}).`);
      return point(text, true, cachePointerOf, ['REDIS_URL'], previousCacheFile);
    },

    async rollbackAppPointer() {
      const previous = read(previousFile);
      if (previous === undefined) throw new Error(`nothing to roll back to: ${previousFile} does not exist (the app was never re-pointed)`);
      // The database's variables as they were; the cache's stay as they are now.
      const kept = Object.fromEntries(Object.entries(parseEnvFile(previous)).filter(([name]) => databaseVars.includes(name)));
      return point(withVars(databaseVars, kept, "Written by dr-runbooks: the demo financial service's database, rolled back."), false);
    },

    async currentPointer() {
      return pointerOf(read(envFile));
    },

    async restart(): Promise<RestartResult> {
      const restartedAt = new Date().toISOString();
      const stopped = await stop();
      return { restartedAt, stopped: stopped.map((pid) => `process ${pid}`), started: [`process ${start()}`] };
    },

    waitRolledOut: rolledOut,

    async waitHealthy(wait: WaitHealthyOptions) {
      return waitForHealthyAnswer({
        url: healthUrl,
        application: 'the financial service',
        afterTimeout: () => (logTail() ? `its log (${logFile}) ends: ${logTail()}` : undefined),
      }, wait);
    },

    async scale(replicas, wait) {
      if (replicas !== 0 && replicas !== 1) throw new Error(`replicas: the local runtime runs 0 or 1 financial service process, not ${replicas}`);
      if (replicas === 0) {
        await stop();
      } else if (!runningPid()) {
        start();
        await rolledOut(wait);
      }
      return { replicas };
    },
  };
}
