import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { silenceAwsSdkNodeVersionWarning } from '../lib/aws-sdk-node20';
import { sleep, spawnServer, tailOf } from '../lib/child-process';
import { removePidFile, stopLeftoverProcesses, writePidFile } from '../lib/pid-files';
import { freePort } from '../lib/ports';
import { PrerequisiteError } from '../lib/prerequisite-error';

export interface MotoServerOptions {
  /** Its log and pid file live here (moto keeps its state in memory). */
  stateDir: string;
  /** A free one when omitted. */
  port?: number;
  startTimeoutMs?: number;
  /**
   * Record every request moto answers (its own recorder, MOTO_ENABLE_RECORDING), so a test can count the
   * calls several processes made, e.g. exactly one create across a worker crash. Bodies hold whatever was sent.
   */
  recordRequests?: boolean;
}

/** One request moto answered: its API action (query protocol `Action=`, JSON protocol `X-Amz-Target`). */
export interface MotoRequest {
  method: string;
  path: string;
  action?: string;
  /** The region the request was signed for (SigV4's credential scope). */
  region?: string;
  /** The request's form fields (query protocol), for a test to check parameters. */
  params: Record<string, string>;
}

/** What every AWS SDK v3 client needs to talk to moto instead of AWS. */
export interface AwsClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export interface MotoServer {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  port: number;
  logFile: string;
  /** Config for an RDS, Route 53, Secrets Manager or ElastiCache client; region us-east-1 unless given. */
  clientConfig(region?: string): AwsClientConfig;
  /** The same for S3, which needs path-style addressing (no bucket.127.0.0.1 host names). */
  s3ClientConfig(region?: string): AwsClientConfig & { forcePathStyle: true };
  /** Forgets every resource in every region (POST /moto-api/reset): a clean account between tests. */
  reset(): Promise<void>;
  /** The requests moto answered since it started (with recordRequests), oldest first. */
  requests(): MotoRequest[];
  stop(): Promise<void>;
}

const stateDirVariable = 'DR_MOTO_STATE_DIR';

/**
 * moto's server (the bootstrap pip-installs `moto[server]`) on loopback: the AWS APIs for RDS, S3, Route 53
 * and Secrets Manager answered for real requests, without AWS. It has no database engine, no pending states
 * and no IAM: see KUBERNETES-AND-AWS in the design notes for what a test against it proves.
 */
export async function startMotoServer(options: MotoServerOptions): Promise<MotoServer> {
  const [executable, ...prefix] = motoCommand();
  const stateDir = path.resolve(options.stateDir);
  mkdirSync(stateDir, { recursive: true });
  const pidDir = path.join(stateDir, 'pids');
  // moto takes no path argument, so our servers carry their state directory in the environment.
  const marker = `${stateDirVariable}=${stateDir} `;
  await stopLeftoverProcesses(pidDir, marker);

  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const logFile = path.join(stateDir, 'moto.log');
  const recording = path.join(stateDir, 'requests.jsonl');
  const proc = spawnServer(executable, [...prefix, '-H', '127.0.0.1', '-p', String(port)], logFile, {
    env: { ...process.env, [stateDirVariable]: stateDir, PYTHONUNBUFFERED: '1', ...(options.recordRequests ? { MOTO_ENABLE_RECORDING: 'True', MOTO_RECORDER_FILEPATH: recording } : {}) },
  });
  const pidFile = path.join(pidDir, 'moto.pid');
  writePidFile(pidFile, proc.pid);
  const stop = async () => {
    await proc.stop('SIGTERM', 10_000);
    removePidFile(pidFile);
  };

  let exitCode: number | null | undefined;
  void proc.exited.then((code) => { exitCode = code; });
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (exitCode !== undefined) {
      removePidFile(pidFile);
      throw new PrerequisiteError(`moto's server exited (code ${exitCode}) while starting (log: ${logFile})`, "read the log lines above; reinstall it with `npm run bootstrap` (pip install 'moto[server]')", tailOf(logFile));
    }
    if (await answers(endpoint)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new PrerequisiteError(`moto's server did not answer on ${endpoint} within ${(options.startTimeoutMs ?? 30_000) / 1000} s (log: ${logFile})`, 'read the log lines above; check free memory, then try again', tailOf(logFile));
    }
    await sleep(100);
  }

  return {
    endpoint,
    port,
    logFile,
    clientConfig: (region) => awsClientConfig(endpoint, region),
    s3ClientConfig: (region) => ({ ...awsClientConfig(endpoint, region), forcePathStyle: true }),
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset answered ${response.status}: ${await response.text()}`);
    },
    requests: () => (options.recordRequests ? readRecording(recording) : []),
    stop,
  };
}

function readRecording(file: string): MotoRequest[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => {
    const entry = JSON.parse(line) as { method: string; url: string; headers: Record<string, string>; body?: string | null; body_encoded?: boolean };
    const body = entry.body ? (entry.body_encoded ? Buffer.from(entry.body, 'base64').toString('utf8') : entry.body) : '';
    const params = /^[\w.%-]+=/.test(body) ? Object.fromEntries(new URLSearchParams(body)) : {};
    const target = Object.entries(entry.headers).find(([k]) => k.toLowerCase() === 'x-amz-target')?.[1];
    const action = params.Action ?? target?.split('.').at(-1);
    const authorization = Object.entries(entry.headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1] ?? '';
    const region = /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\//.exec(authorization)?.[1];
    return { method: entry.method, path: new URL(entry.url).pathname, ...(action ? { action } : {}), ...(region ? { region } : {}), params };
  });
}

/** An AWS SDK v3 client config for an endpoint that is not AWS: fixed dummy credentials, no credential chain. */
export function awsClientConfig(endpoint: string, region = 'us-east-1'): AwsClientConfig {
  silenceAwsSdkNodeVersionWarning();
  return { endpoint, region, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
}

/** `moto_server` when it is on PATH, else `python3 -m moto.server`; DR_MOTO_SERVER names another executable. */
export function motoCommand(): [string, ...string[]] {
  const named = process.env.DR_MOTO_SERVER;
  if (named) {
    if (!isExecutable(named)) throw new PrerequisiteError(`DR_MOTO_SERVER names ${named}, which is not an executable`, "point it at moto_server (pip install 'moto[server]' puts it beside python3), or unset it to use the one the bootstrap installs");
    return [named];
  }
  const onPath = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'moto_server')).find(isExecutable);
  if (onPath) return [onPath];
  const python = spawnSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' });
  if (python.status === 0) return ['python3', '-m', 'moto.server'];
  throw new PrerequisiteError("moto's server is not installed (no moto_server on PATH, and python3 cannot import moto.server)", "run `npm run bootstrap` (it runs pip install 'moto[server]'), or set DR_MOTO_SERVER to its executable");
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}
