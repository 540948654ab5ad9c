import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { spawnServer, sleep, tailOf, type ServerProcess } from '../lib/child-process';
import { temporalBinary } from './paths';
import { assertPortFree, freePort } from '../lib/ports';
import { PrerequisiteError } from '../lib/prerequisite-error';

/** The search attributes every runbook keeps current, so the Web UI can list and filter them. */
export const searchAttributes = ['DrScenario', 'DrEnvironment', 'DrIncidentId', 'DrStatus'] as const;

export interface TemporalServerOptions {
  stateDir: string;
  /** gRPC frontend port; a free one when omitted. */
  port?: number;
  /** Web UI port; none (headless) when omitted. */
  uiPort?: number;
  namespace?: string;
  startTimeoutMs?: number;
  /** The codec server the Web UI decodes payloads through (`--ui-codec-endpoint`), e.g. http://127.0.0.1:8888. */
  uiCodecEndpoint?: string;
}

export interface TemporalServer {
  address: string;
  namespace: string;
  uiUrl?: string;
  process: ServerProcess;
  stop(): Promise<void>;
}

/** `temporal server start-dev` arguments: loopback only, persistent SQLite state, our search attributes. */
export function temporalDevServerArgs(opts: { port: number; uiPort?: number; namespace: string; dbFile: string; uiCodecEndpoint?: string }): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--namespace', opts.namespace, '--db-filename', opts.dbFile, '--log-level', 'warn'];
  if (opts.uiPort) args.push('--ui-port', String(opts.uiPort), '--ui-ip', '127.0.0.1');
  else args.push('--headless');
  if (opts.uiPort && opts.uiCodecEndpoint) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  for (const name of searchAttributes) args.push('--search-attribute', `${name}=Keyword`);
  // A step scheduled by a workflow task goes back to the worker in the task's own answer instead of waiting
  // in the activity queue behind every other runbook's (off by default in the server; the bench's many
  // runbooks: p99 from a deciding vote to the next step 23 s → 3.4 s). Clusters of your own: same flag.
  args.push('--dynamic-config-value', 'system.enableActivityEagerExecution=true');
  // SQLite's default rollback journal syncs the disk several times per commit (7 ms here) and the dev server
  // writes through one connection, so every runbook's workflow tasks queue behind every other's commits.
  // The write-ahead log syncs once per commit (0.6 ms), with the same durability (synchronous stays full):
  // the bench's 200 runbooks at once went from 10–19 to 25–40 workflow tasks per second.
  args.push('--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=full');
  return args;
}

/** Starts the real Temporal dev server built by the bootstrap and waits until it serves the namespace. */
export async function startTemporalServer(options: TemporalServerOptions): Promise<TemporalServer> {
  const binary = temporalBinary();
  const namespace = options.namespace ?? 'default';
  const port = options.port ?? (await freePort());
  if (options.port) await assertPortFree(port, 'the Temporal server', 'DR_TEMPORAL_PORT');
  if (options.uiPort) await assertPortFree(options.uiPort, 'the Temporal Web UI', 'DR_TEMPORAL_UI_PORT');
  mkdirSync(options.stateDir, { recursive: true });
  const dbFile = path.join(options.stateDir, 'temporal.db');
  const logFile = path.join(options.stateDir, 'temporal.log');
  const proc = spawnServer(binary, temporalDevServerArgs({ port, uiPort: options.uiPort, namespace, dbFile, uiCodecEndpoint: options.uiCodecEndpoint }), logFile);
  const address = `127.0.0.1:${port}`;

  let crashed: number | null | undefined;
  void proc.exited.then((code) => { crashed = code; });
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (crashed !== undefined) {
      throw new PrerequisiteError(`the Temporal dev server exited (code ${crashed}) while starting (log: ${logFile})`, `read the log lines above; a corrupt state file can be removed with rm -rf ${options.stateDir}`, tailOf(logFile));
    }
    if (await servesNamespace(address, namespace)) break;
    if (Date.now() > deadline) {
      await proc.stop();
      throw new PrerequisiteError(`the Temporal dev server did not answer on ${address} within ${(options.startTimeoutMs ?? 60_000) / 1000} s (log: ${logFile})`, 'read the log lines above; check free memory and disk, then try again', tailOf(logFile));
    }
    await sleep(250);
  }
  return {
    address,
    namespace,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    process: proc,
    stop: () => proc.stop(),
  };
}

async function servesNamespace(address: string, namespace: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1000 });
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}
