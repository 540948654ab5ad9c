import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../lib/atomic-file';
import { sleep, spawnServer, tailOf, type ServerProcess } from '../lib/child-process';
import { assertPortFree, freePort, isListening } from '../lib/ports';
import { PrerequisiteError } from '../lib/prerequisite-error';

/**
 * A real TLS terminator in front of the Temporal dev server (which has no TLS of its own): Debian's
 * haproxy in TCP mode, requiring and verifying a client certificate against a CA (mutual TLS), and
 * offering ALPN h2. The ALPN is why it is not stunnel: stunnel 5.68 negotiates no ALPN, and the worker's
 * gRPC client (Temporal Core, tonic/rustls) refuses such a connection with "H2NotNegotiated" (the
 * @temporalio/client one does not mind).
 */

export interface TlsTerminatorOptions {
  stateDir: string;
  /** Where the plaintext gRPC server listens, e.g. the dev server's "127.0.0.1:7233". */
  backend: string;
  /** The TLS port; a free one when omitted. */
  port?: number;
  serverCert: string;
  serverKey: string;
  /** The CA whose client certificates are accepted (haproxy ca-file; stunnel's CAfile). */
  clientCa: string;
  /** true unless set: connections without a valid client certificate are refused in the handshake. */
  requireClientCert?: boolean;
  startTimeoutMs?: number;
}

export interface TlsTerminator {
  /** "127.0.0.1:PORT": what TEMPORAL_ADDRESS / the profile's address points at. */
  readonly address: string;
  readonly port: number;
  readonly process: ServerProcess;
  stop(): Promise<void>;
}

/** haproxy from Debian's package (override: DR_HAPROXY). */
export function haproxyBinary(): string {
  const binary = process.env.DR_HAPROXY ?? '/usr/sbin/haproxy';
  if (!existsSync(binary)) throw new PrerequisiteError(`haproxy is not at ${binary}`, 'run `npm run bootstrap` (apt-get install haproxy), or set DR_HAPROXY');
  return binary;
}

export function haproxyConfig(options: { port: number; backend: string; pemFile: string; clientCa: string; requireClientCert: boolean }): string {
  const verify = options.requireClientCert ? `ca-file ${options.clientCa} verify required` : `ca-file ${options.clientCa} verify optional`;
  return [
    'global',
    '  log stderr format raw local0 info',
    '  maxconn 512',
    'defaults',
    '  mode tcp',
    '  log global',
    '  option tcplog',
    '  timeout connect 5s',
    // gRPC streams (long polls) stay open for minutes.
    '  timeout client 10m',
    '  timeout server 10m',
    'frontend temporal_tls',
    `  bind 127.0.0.1:${options.port} ssl crt ${options.pemFile} ${verify} alpn h2 ssl-min-ver TLSv1.2`,
    '  default_backend temporal',
    'backend temporal',
    `  server frontend ${options.backend}`,
    '',
  ].join('\n');
}

export async function startTlsTerminator(options: TlsTerminatorOptions): Promise<TlsTerminator> {
  const binary = haproxyBinary();
  const port = options.port ?? (await freePort());
  if (options.port) await assertPortFree(port, 'the TLS terminator', 'DR_TLS_PORT');
  for (const [what, file] of [['server certificate', options.serverCert], ['server key', options.serverKey], ['client CA', options.clientCa]] as const) {
    if (!existsSync(file)) throw new PrerequisiteError(`the TLS terminator's ${what} ${file} does not exist`, 'create it (stack/test-ca.ts makes a test CA) or pass the right path');
  }
  mkdirSync(options.stateDir, { recursive: true });
  // haproxy wants the certificate and its key in one PEM file.
  const pemFile = path.join(options.stateDir, 'tls-terminator.pem');
  writeFileAtomic(pemFile, readFileSync(options.serverCert, 'utf8').trimEnd() + '\n' + readFileSync(options.serverKey, 'utf8'));
  const configFile = path.join(options.stateDir, 'tls-terminator.cfg');
  writeFileAtomic(configFile, haproxyConfig({ port, backend: options.backend, pemFile, clientCa: options.clientCa, requireClientCert: options.requireClientCert ?? true }), 0o644);
  const logFile = path.join(options.stateDir, 'tls-terminator.log');
  const proc = spawnServer(binary, ['-db', '-f', configFile], logFile);

  let exitCode: number | null | undefined;
  void proc.exited.then((code) => { exitCode = code; });
  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  while (!(await isListening(port))) {
    if (exitCode !== undefined) {
      throw new PrerequisiteError(`haproxy (the TLS terminator) exited with code ${exitCode} while starting (log: ${logFile})`, 'read the log lines above', tailOf(logFile));
    }
    if (Date.now() > deadline) {
      await proc.stop();
      throw new PrerequisiteError(`haproxy did not listen on 127.0.0.1:${port} within ${(options.startTimeoutMs ?? 10_000) / 1000} s (log: ${logFile})`, 'read the log lines above', tailOf(logFile));
    }
    await sleep(100);
  }
  return { address: `127.0.0.1:${port}`, port, process: proc, stop: () => proc.stop() };
}
