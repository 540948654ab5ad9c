import { createPrivateKey, X509Certificate } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { loadClientConfig, loadClientConfigProfile, toClientOptions, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';
import type { ConnectionOptions } from '@temporalio/client';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { PrerequisiteError } from './prerequisite-error';

/**
 * Where the worker and the `dr` CLI connect, read the way the `temporal` CLI reads it (through
 * @temporalio/envconfig): a profile of temporal.toml (TEMPORAL_CONFIG_FILE, else
 * ~/.config/temporalio/temporal.toml; TEMPORAL_PROFILE, else "default"), overridden by TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS and TEMPORAL_TLS_* variables. With nothing set:
 * the local dev server, 127.0.0.1:7233, namespace "default", no TLS.
 */

export const defaultAddress = '127.0.0.1:7233';
export const defaultNamespace = 'default';

export interface TemporalConnectionSettings {
  readonly address: string;
  readonly namespace: string;
  readonly apiKey?: string;
  /** false: plaintext. */
  readonly tls: TLSConfig | false;
  readonly metadata?: Record<string, string>;
  /** Where the settings came from, for messages: `profile "prod" of /home/x/.config/temporalio/temporal.toml`. */
  readonly source: string;
  /** How the user sets the client certificate here, for messages. */
  readonly clientCertHint: string;
}

export interface LoadTemporalConnectionOptions {
  /** The environment to read; this process's by default. */
  env?: Record<string, string | undefined>;
  /** A profile name (else TEMPORAL_PROFILE, else "default"). */
  profile?: string;
  /** A temporal.toml path (else TEMPORAL_CONFIG_FILE, else the user's default file if it exists). */
  configFile?: string;
}

function configFileFix(file: string): string {
  return `fix ${file} (the same file the temporal CLI reads: https://docs.temporal.io/develop/environment-configuration), or point TEMPORAL_CONFIG_FILE at another one`;
}

function defaultConfigFile(env: Record<string, string>): string | undefined {
  const base = env.XDG_CONFIG_HOME || (env.HOME ? `${env.HOME}/.config` : undefined);
  return base ? `${base}/temporalio/temporal.toml` : undefined;
}

interface TlsFile {
  field: string;
  envVar: string;
  source?: ConfigDataSource;
}

/** A TLS file must exist, be readable and hold what its field says, checked before any connection. */
function checkTlsFiles(profile: ClientConfigProfile, where: string): void {
  const files: TlsFile[] = [
    { field: 'client_cert', envVar: 'TEMPORAL_TLS_CLIENT_CERT', source: profile.tls?.clientCert },
    { field: 'client_key', envVar: 'TEMPORAL_TLS_CLIENT_KEY', source: profile.tls?.clientKey },
    { field: 'server_ca_cert', envVar: 'TEMPORAL_TLS_SERVER_CA_CERT', source: profile.tls?.serverCACert },
  ];
  const contents: Record<string, string> = {};
  for (const { field, envVar, source } of files) {
    if (!source) continue;
    const named = `tls.${field}_path of ${where} (or ${envVar}_PATH)`;
    if ('path' in source) {
      if (!existsSync(source.path)) throw new PrerequisiteError(`the TLS file ${source.path} does not exist`, `set ${named} to the right file`);
      try {
        accessSync(source.path, constants.R_OK);
      } catch {
        throw new PrerequisiteError(`the TLS file ${source.path} cannot be read by this user`, `make it readable (chmod/chown), or set ${named} to a readable copy`);
      }
      contents[field] = readFileSync(source.path, 'utf8');
    } else {
      contents[field] = typeof source.data === 'string' ? source.data : Buffer.from(source.data).toString('utf8');
    }
    const label = 'path' in source ? source.path : `tls.${field}_data of ${where} (or ${envVar}_DATA)`;
    try {
      if (field === 'client_key') createPrivateKey(contents[field] as string);
      else new X509Certificate(contents[field] as string);
    } catch (error) {
      const kind = field === 'client_key' ? 'a PEM private key' : 'a PEM certificate';
      throw new PrerequisiteError(`${label} is not ${kind}: ${(error as Error).message}`, `point tls.${field}_path at ${kind} (-----BEGIN …-----)`);
    }
  }
  if (!!contents.client_cert !== !!contents.client_key) {
    const has = contents.client_cert ? 'client_cert' : 'client_key';
    const lacks = contents.client_cert ? 'client_key' : 'client_cert';
    throw new PrerequisiteError(`${where} sets tls.${has} but not tls.${lacks}`, `a client certificate needs its key: set tls.${lacks}_path (or TEMPORAL_TLS_${lacks.toUpperCase()}_PATH) too`);
  }
  if (contents.client_cert && contents.client_key && !new X509Certificate(contents.client_cert).checkPrivateKey(createPrivateKey(contents.client_key))) {
    throw new PrerequisiteError(`the client key of ${where} does not belong to its client certificate`, 'set tls.client_key_path to the key the certificate was issued for');
  }
}

function toBuffer(bytes: Uint8Array | undefined): Buffer | undefined {
  return bytes ? Buffer.from(bytes) : undefined;
}

/** Reads and checks the settings; a PrerequisiteError says what is wrong and which setting fixes it. */
export function loadTemporalConnectionSettings(options: LoadTemporalConnectionOptions = {}): TemporalConnectionSettings {
  const env = Object.fromEntries(Object.entries(options.env ?? process.env).filter((e): e is [string, string] => e[1] !== undefined));
  const explicitFile = options.configFile ?? env.TEMPORAL_CONFIG_FILE;
  if (explicitFile !== undefined && !existsSync(explicitFile)) {
    // envconfig silently ignores a missing file; a typo here would quietly connect somewhere else.
    throw new PrerequisiteError(`the Temporal config file ${explicitFile} does not exist`, options.configFile ? 'pass an existing temporal.toml' : 'fix TEMPORAL_CONFIG_FILE, or unset it to use ~/.config/temporalio/temporal.toml');
  }
  const file = explicitFile ?? defaultConfigFile(env);
  const fileInUse = file !== undefined && existsSync(file) ? file : undefined;
  const profileName = options.profile ?? env.TEMPORAL_PROFILE;
  const where = fileInUse ? `profile "${profileName ?? 'default'}" of ${fileInUse}` : 'the environment';

  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ profile: profileName, configSource: fileInUse ? { path: fileInUse } : undefined, disableFile: !fileInUse, overrideEnvVars: env });
  } catch (error) {
    const message = (error as Error).message;
    if (/Profile '.*' not found/.test(message)) {
      const known = fileInUse ? Object.keys(loadClientConfig({ configSource: { path: fileInUse } }).profiles) : [];
      throw new PrerequisiteError(
        `there is no Temporal profile "${profileName}"${fileInUse ? ` in ${fileInUse}` : ' (no temporal.toml found)'}`,
        known.length ? `use one of ${known.map((p) => `"${p}"`).join(', ')} (TEMPORAL_PROFILE), or add [profile.${profileName}] to the file` : 'create the profile with `temporal config set --profile NAME --prop address --value HOST:PORT`, or unset TEMPORAL_PROFILE',
      );
    }
    if (fileInUse && !/ENOENT/.test(message)) throw new PrerequisiteError(`the Temporal config file ${fileInUse} cannot be used: ${message}`, configFileFix(fileInUse));
    throw new PrerequisiteError(`the Temporal connection settings cannot be read: ${message}`, 'check TEMPORAL_* variables and temporal.toml');
  }
  if (env.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === 'true' || env.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === '1') {
    throw new PrerequisiteError('TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is set, but the TypeScript SDK always checks the server\'s name', 'unset it and set TEMPORAL_TLS_SERVER_NAME to a name in the server\'s certificate');
  }
  checkTlsFiles(profile, where);

  const { connectionOptions, namespace } = toClientOptions(profile);
  const rawTls = connectionOptions.tls;
  const tlsConfig: TLSConfig | false = rawTls === true ? {} : rawTls ? rawTls : false;
  if (profile.apiKey !== undefined && tlsConfig === false) {
    throw new PrerequisiteError(`${where} has an API key but turns TLS off: the key would cross the network in clear text`, 'remove TEMPORAL_TLS=false / tls.disabled, or remove the API key');
  }
  const settings: TemporalConnectionSettings = {
    address: connectionOptions.address ?? defaultAddress,
    namespace: namespace ?? defaultNamespace,
    apiKey: profile.apiKey,
    // Buffers, not the Uint8Arrays envconfig reads: the client's TLS layer wants Buffers.
    tls: tlsConfig === false ? false : strip({
      serverNameOverride: tlsConfig.serverNameOverride,
      serverRootCACertificate: toBuffer(tlsConfig.serverRootCACertificate),
      clientCertPair: tlsConfig.clientCertPair ? { crt: Buffer.from(tlsConfig.clientCertPair.crt), key: Buffer.from(tlsConfig.clientCertPair.key) } : undefined,
    }),
    metadata: connectionOptions.metadata as Record<string, string> | undefined,
    source: where,
    clientCertHint: fileInUse
      ? `tls.client_cert_path and tls.client_key_path in ${where} (or TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH)`
      : 'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or tls.client_cert_path and tls.client_key_path in a temporal.toml profile)',
  };
  if (!/^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):\d{1,5}$/.test(settings.address)) {
    throw new PrerequisiteError(`the Temporal address "${settings.address}" (${where}) is not HOST:PORT`, 'set TEMPORAL_ADDRESS (or address in the profile) to e.g. temporal.example.com:7233');
  }
  return settings;
}

function strip<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** For `Connection.connect` (the `dr` CLI and every @temporalio/client user). */
export function clientConnectionOptions(settings: TemporalConnectionSettings): ConnectionOptions {
  return strip({ address: settings.address, tls: settings.tls, apiKey: settings.apiKey, metadata: settings.metadata });
}

/** For `NativeConnection.connect` (the worker). */
export function workerConnectionOptions(settings: TemporalConnectionSettings): NativeConnectionOptions {
  return strip({ address: settings.address, tls: settings.tls, apiKey: settings.apiKey, metadata: settings.metadata });
}

function hostAndPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(address.slice(at + 1)) };
}

type Probe = { kind: 'tls'; alpn: string | false } | { kind: 'error'; code: string; message: string; afterHandshake?: boolean } | { kind: 'timeout' };

function probeTls(settings: TemporalConnectionSettings, tlsConfig: TLSConfig, verify: boolean): Promise<Probe> {
  const { host, port } = hostAndPort(settings.address);
  return new Promise((resolve) => {
    const socket = tls.connect({
      host,
      port,
      servername: tlsConfig.serverNameOverride ?? (net.isIP(host) ? undefined : host),
      ca: tlsConfig.serverRootCACertificate ? Buffer.from(tlsConfig.serverRootCACertificate) : undefined,
      cert: tlsConfig.clientCertPair ? Buffer.from(tlsConfig.clientCertPair.crt) : undefined,
      key: tlsConfig.clientCertPair ? Buffer.from(tlsConfig.clientCertPair.key) : undefined,
      ALPNProtocols: ['h2'],
      rejectUnauthorized: verify,
      ...(verify ? {} : { checkServerIdentity: () => undefined }),
    });
    let handshook = false;
    const done = (probe: Probe) => { socket.destroy(); resolve(probe); };
    socket.setTimeout(5000, () => done({ kind: 'timeout' }));
    // In TLS 1.3 a server refuses a missing client certificate only after the handshake: send the
    // HTTP/2 preface and wait for its first frame or its alert.
    socket.once('secureConnect', () => {
      handshook = true;
      socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00');
    });
    socket.once('data', () => done({ kind: 'tls', alpn: socket.alpnProtocol ?? false }));
    socket.once('error', (error: NodeJS.ErrnoException) => done({ kind: 'error', code: error.code ?? 'ERROR', message: error.message, afterHandshake: handshook }));
    socket.once('end', () => done({ kind: 'tls', alpn: socket.alpnProtocol ?? false }));
  });
}

function probeTcp(address: string): Promise<Probe> {
  const { host, port } = hostAndPort(address);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (probe: Probe) => { socket.destroy(); resolve(probe); };
    socket.setTimeout(5000, () => done({ kind: 'timeout' }));
    socket.once('connect', () => done({ kind: 'tls', alpn: false }));
    socket.once('error', (error: NodeJS.ErrnoException) => done({ kind: 'error', code: error.code ?? 'ERROR', message: error.message }));
  });
}

const untrustedServer = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_UNTRUSTED']);
const refusedClientCert = /ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|ACCESS_DENIED|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|UNSUPPORTED_CERTIFICATE|DECRYPT_ERROR)/;

/**
 * Turns a failed connection into what to fix. gRPC's own errors rarely say why (the client's is often
 * just "Failed to connect before the deadline"), so this asks the server directly with a TLS handshake
 * configured like the connection, and reads the answer.
 */
export async function diagnoseTemporalConnection(settings: TemporalConnectionSettings, error: unknown): Promise<PrerequisiteError> {
  const said = error instanceof Error ? error.message : String(error);
  const at = `the Temporal server at ${settings.address} (${settings.source})`;
  const tcp = await probeTcp(settings.address);
  if (tcp.kind === 'error') {
    return new PrerequisiteError(`nothing accepts connections at ${settings.address} (${tcp.code})`, `start the Temporal server, or set TEMPORAL_ADDRESS / the profile's address to where it listens`, said);
  }
  if (tcp.kind === 'timeout') return new PrerequisiteError(`${at} does not answer within 5 s`, 'check the address and any firewall between here and the server', said);

  if (settings.tls === false) {
    const probe = await probeTls(settings, {}, false);
    // A server that wants a client certificate answers this anonymous handshake with an alert: still TLS.
    if (probe.kind === 'tls' || (probe.kind === 'error' && (probe.afterHandshake || /ALERT/.test(probe.code)))) {
      return new PrerequisiteError(`${at} speaks TLS, but no TLS is configured`, `set TEMPORAL_TLS=true (and TEMPORAL_TLS_SERVER_CA_CERT_PATH if its CA is private), or a [profile.NAME.tls] section`, said);
    }
    return new PrerequisiteError(`could not connect to ${at}: ${said}`, 'check that the address is a Temporal frontend (gRPC) port', said);
  }

  const probe = await probeTls(settings, settings.tls, true);
  const hasClientCert = settings.tls.clientCertPair !== undefined;
  if (probe.kind === 'error') {
    if (/CERTIFICATE_REQUIRED/.test(probe.code) || (!hasClientCert && /ALERT_HANDSHAKE_FAILURE/.test(probe.code))) {
      return new PrerequisiteError(`${at} requires a client certificate (mutual TLS), and none is configured`, `set ${settings.clientCertHint} to a certificate and key issued by a CA the server trusts`, said);
    }
    if (hasClientCert && refusedClientCert.test(probe.code)) {
      const cert = new X509Certificate(Buffer.from(settings.tls.clientCertPair?.crt ?? ''));
      return new PrerequisiteError(`${at} refused our client certificate (${cert.subject.replace(/\n/g, ', ')}; issued by ${cert.issuer.replace(/\n/g, ', ')}; valid until ${cert.validTo})`, 'use a client certificate issued by a CA the server trusts, and not expired', said);
    }
    if (untrustedServer.has(probe.code) || probe.code === 'CERT_HAS_EXPIRED') {
      return new PrerequisiteError(`the certificate of ${at} is not trusted (${probe.code})`, 'set tls.server_ca_cert_path (or TEMPORAL_TLS_SERVER_CA_CERT_PATH) to the CA certificate that signed the server\'s certificate', said);
    }
    if (probe.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return new PrerequisiteError(`the certificate of ${at} is for another name: ${probe.message}`, 'connect by a name the certificate lists, or set tls.server_name (or TEMPORAL_TLS_SERVER_NAME) to one', said);
    }
    if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL|ECONNRESET/.test(probe.code)) {
      return new PrerequisiteError(`${at} does not speak TLS, but TLS is configured`, 'point at the server\'s TLS port, or turn TLS off (TEMPORAL_TLS=false, tls.disabled = true) for a plaintext server', said);
    }
    return new PrerequisiteError(`the TLS handshake with ${at} failed: ${probe.code} ${probe.message}`, 'check the TLS settings against the server\'s', said);
  }
  if (probe.kind === 'tls' && probe.alpn !== 'h2') {
    return new PrerequisiteError(`${at} accepts TLS but does not negotiate HTTP/2 (ALPN h2), which gRPC needs`, 'configure the TLS terminator in front of Temporal to offer ALPN h2 (haproxy: `alpn h2` on the bind line; stunnel cannot)', said);
  }
  if (/UNAUTHENTICATED|PERMISSION_DENIED|Request unauthorized|invalid API key/i.test(said)) {
    return new PrerequisiteError(`${at} refused our credentials`, 'check TEMPORAL_API_KEY (or api_key in the profile) and the namespace it is for', said);
  }
  return new PrerequisiteError(`could not connect to ${at}: ${said}`, 'check the address, namespace and TLS settings', said);
}

/** Runs a connect function (Connection.connect or NativeConnection.connect); a failure says what to fix. */
export async function connectOrExplain<T>(settings: TemporalConnectionSettings, connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (error) {
    throw await diagnoseTemporalConnection(settings, error);
  }
}
