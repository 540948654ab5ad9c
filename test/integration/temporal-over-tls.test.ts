import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { PrerequisiteError } from '../../lib/prerequisite-error';
import { clientConnectionOptions, connectOrExplain, loadTemporalConnectionSettings, workerConnectionOptions, type TemporalConnectionSettings } from '../../lib/temporal-connection';
import { startTemporalServer, type TemporalServer } from '../../stack/temporal-server';
import { createTestCertificateAuthority } from '../../stack/test-ca';
import { startTlsTerminator, type TlsTerminator } from '../../stack/tls-terminator';
import { quietTemporalLogs } from '../support/quiet-logs';

let dir: string;
let temporal: TemporalServer;
let terminator: TlsTerminator;
let configFile: string;
let noAlpnProxy: net.Server;
let noAlpnAddress: string;

/** Settings from a profile of our temporal.toml, with nothing from this machine's own environment. */
function profile(name: string, env: Record<string, string> = {}): TemporalConnectionSettings {
  return loadTemporalConnectionSettings({ env: { HOME: dir, TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: name, ...env } });
}

const connectClient = (settings: TemporalConnectionSettings) =>
  connectOrExplain(settings, () => Connection.connect({ ...clientConnectionOptions(settings), connectTimeout: 3000 }));
const connectWorker = (settings: TemporalConnectionSettings) => connectOrExplain(settings, () => NativeConnection.connect(workerConnectionOptions(settings)));

async function refusedWith(attempt: Promise<unknown>, what: RegExp, fix: RegExp): Promise<PrerequisiteError> {
  const error = await attempt.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof PrerequisiteError, `expected a PrerequisiteError, got ${String(error)}`);
  assert.match(error.what, what);
  assert.match(error.fix, fix);
  return error;
}

before(async () => {
  quietTemporalLogs();
  dir = mkdtempSync(path.join(os.tmpdir(), 'dr-tls-'));
  const ca = createTestCertificateAuthority(path.join(dir, 'ca'));
  const server = ca.issueServer('temporal-frontend');
  const worker = ca.issueClient('dr-worker');
  const rogue = createTestCertificateAuthority(path.join(dir, 'rogue-ca'), 'somebody else').issueClient('intruder');
  temporal = await startTemporalServer({ stateDir: path.join(dir, 'temporal') });
  terminator = await startTlsTerminator({ stateDir: path.join(dir, 'tls'), backend: temporal.address, serverCert: server.cert, serverKey: server.key, clientCa: ca.caCert });

  // A TLS proxy that offers no ALPN, as stunnel does, to show what the worker makes of one.
  noAlpnProxy = tls.createServer({ cert: readFileSync(server.cert), key: readFileSync(server.key) }, (socket) => {
    const upstream = net.connect({ host: '127.0.0.1', port: Number(temporal.address.split(':')[1]) });
    socket.pipe(upstream).pipe(socket);
    const close = () => { socket.destroy(); upstream.destroy(); };
    socket.on('error', close);
    upstream.on('error', close);
  });
  await new Promise<void>((resolve) => noAlpnProxy.listen(0, '127.0.0.1', resolve));
  noAlpnAddress = `127.0.0.1:${(noAlpnProxy.address() as net.AddressInfo).port}`;

  configFile = path.join(dir, 'temporal.toml');
  writeFileSync(configFile, [
    '[profile.mtls]',
    `address = "${terminator.address}"`,
    'namespace = "default"',
    '[profile.mtls.tls]',
    `server_ca_cert_path = "${ca.caCert}"`,
    `client_cert_path = "${worker.cert}"`,
    `client_key_path = "${worker.key}"`,
    'server_name = "localhost"',
    '',
    '[profile.nocert]',
    `address = "${terminator.address}"`,
    '[profile.nocert.tls]',
    `server_ca_cert_path = "${ca.caCert}"`,
    'server_name = "localhost"',
    '',
    '[profile.rogue]',
    `address = "${terminator.address}"`,
    '[profile.rogue.tls]',
    `server_ca_cert_path = "${ca.caCert}"`,
    `client_cert_path = "${rogue.cert}"`,
    `client_key_path = "${rogue.key}"`,
    'server_name = "localhost"',
    '',
    '[profile.plaintext]',
    `address = "${terminator.address}"`,
    '',
    '[profile.untrusted]',
    `address = "${terminator.address}"`,
    '[profile.untrusted.tls]',
    `client_cert_path = "${worker.cert}"`,
    `client_key_path = "${worker.key}"`,
    'server_name = "localhost"',
    '',
    '[profile.noalpn]',
    `address = "${noAlpnAddress}"`,
    '[profile.noalpn.tls]',
    `server_ca_cert_path = "${ca.caCert}"`,
    `client_cert_path = "${worker.cert}"`,
    `client_key_path = "${worker.key}"`,
    'server_name = "localhost"',
    '',
  ].join('\n'));
});

after(async () => {
  await terminator?.stop();
  await new Promise((resolve) => noAlpnProxy?.close(resolve));
  await temporal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Temporal through a TLS terminator that requires client certificates (haproxy)', () => {
  test('with the client certificate from a temporal.toml profile, the client lists workflows and the worker connection works', async () => {
    const settings = profile('mtls');
    assert.equal(settings.address, terminator.address);
    const connection = await connectClient(settings);
    try {
      const described = await connection.workflowService.describeNamespace({ namespace: settings.namespace });
      assert.equal(described.namespaceInfo?.name, 'default');
      const client = new Client({ connection, namespace: settings.namespace });
      const listed = [];
      for await (const workflow of client.workflow.list({ pageSize: 10 })) listed.push(workflow);
      assert.ok(Array.isArray(listed));
    } finally {
      await connection.close();
    }
    const native = await connectWorker(settings);
    try {
      const described = await native.workflowService.describeNamespace({ namespace: settings.namespace });
      assert.equal(described.namespaceInfo?.name, 'default');
    } finally {
      await native.close();
    }
  });

  test('the same settings from TEMPORAL_* variables alone work too', async () => {
    const mtls = profile('mtls');
    const tlsDir = path.join(dir, 'ca');
    const settings = loadTemporalConnectionSettings({
      env: {
        HOME: dir,
        TEMPORAL_ADDRESS: mtls.address,
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(tlsDir, 'ca.crt'),
        TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(tlsDir, 'dr-worker.crt'),
        TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(tlsDir, 'dr-worker.key'),
        TEMPORAL_TLS_SERVER_NAME: 'localhost',
      },
    });
    const native = await connectWorker(settings);
    await native.close();
  });

  test('without a client certificate both connections fail, and the error says the server requires one and what to set', async () => {
    const settings = profile('nocert');
    for (const connect of [connectClient, connectWorker]) {
      const error = await refusedWith(connect(settings), /requires a client certificate \(mutual TLS\), and none is configured/, /tls\.client_cert_path and tls\.client_key_path in profile "nocert" of .*temporal\.toml/);
      assert.match(error.message, new RegExp(terminator.address));
    }
  });

  test('a client certificate from another CA is refused, and the error says so', async () => {
    await refusedWith(connectWorker(profile('rogue')), /refused our client certificate \(CN=intruder; issued by CN=somebody else/, /issued by a CA the server trusts/);
  });

  test('a private server CA that is not configured, and TLS that is not configured at all, are each named', async () => {
    await refusedWith(connectClient(profile('untrusted')), /certificate of .* is not trusted/, /server_ca_cert_path/);
    await refusedWith(connectClient(profile('plaintext')), /speaks TLS, but no TLS is configured/, /TEMPORAL_TLS=true/);
  });

  test('a terminator without ALPN h2 (like stunnel): the worker refuses it, and the error says why', async () => {
    const settings = profile('noalpn');
    const error = await refusedWith(connectWorker(settings), /does not negotiate HTTP\/2 \(ALPN h2\)/, /alpn h2/);
    assert.match(error.details ?? '', /H2NotNegotiated/);
  });

  test('the dr CLI and the worker process connect from a temporal.toml profile with a client certificate; without one each fails with a clear message', { timeout: 120_000 }, async () => {
    const root = path.join(__dirname, '..', '..');
    const env = (profileName: string) => ({ PATH: process.env.PATH ?? '', HOME: dir, TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: profileName, DR_TASK_QUEUE: 'tls-test' });
    const dr = (profileName: string, ...args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [path.join(root, 'client', 'bin', 'dr.js'), ...args], { cwd: root, env: env(profileName), timeout: 60_000 }, (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
    const listed = await dr('mtls', 'list', '--all', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout), []);
    const refused = await dr('nocert', 'list');
    assert.equal(refused.code, 4, refused.stderr);
    assert.match(refused.stderr, /^dr: cannot reach Temporal at 127\.0\.0\.1:\d+: the Temporal server at .* requires a client certificate \(mutual TLS\), and none is configured\. Fix: set tls\.client_cert_path and tls\.client_key_path in profile "nocert"/);

    const workerConfig = path.join(dir, 'worker.yaml');
    writeFileSync(workerConfig, 'environment: tls-test\ndatabases: {}\n');
    const worker = (profileName: string) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'worker', 'main.ts')], { cwd: root, env: { ...env(profileName), DR_CONFIG: workerConfig }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      return { child, output: () => output, exited: new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))) };
    };
    const polling = worker('mtls');
    const deadline = Date.now() + 60_000;
    while (!/worker: polling task queue tls-test/.test(polling.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.match(polling.output(), new RegExp(`worker: polling task queue tls-test on ${terminator.address} \\(namespace default; profile "mtls" of `));
    polling.child.kill('SIGTERM');
    assert.equal(await polling.exited, 0, polling.output());
    const noCert = worker('nocert');
    assert.equal(await noCert.exited, 2, noCert.output());
    assert.match(noCert.output(), /error: the Temporal server at .* requires a client certificate \(mutual TLS\), and none is configured\. Fix: set tls\.client_cert_path/);
  });
});
