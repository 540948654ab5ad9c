import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PrerequisiteError } from '../../lib/prerequisite-error';
import { clientConnectionOptions, loadTemporalConnectionSettings, workerConnectionOptions } from '../../lib/temporal-connection';
import { createTestCertificateAuthority, type IssuedCertificate } from '../../stack/test-ca';

let home: string;
let ca: ReturnType<typeof createTestCertificateAuthority>;
let client: IssuedCertificate;
let other: IssuedCertificate;

before(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'dr-envconfig-'));
  ca = createTestCertificateAuthority(path.join(home, 'ca'));
  client = ca.issueClient('worker');
  other = ca.issueClient('other');
});
after(() => rmSync(home, { recursive: true, force: true }));

function toml(name: string, content: string): string {
  const file = path.join(home, name);
  writeFileSync(file, content);
  return file;
}

function refused(load: () => unknown, what: RegExp, fix?: RegExp): void {
  assert.throws(load, (error: unknown) => {
    assert.ok(error instanceof PrerequisiteError, `not a PrerequisiteError: ${String(error)}`);
    assert.match(error.what, what);
    if (fix) assert.match(error.fix, fix);
    return true;
  });
}

describe('Temporal connection settings (envconfig: temporal.toml profiles and TEMPORAL_* variables)', () => {
  test('with nothing set: the local dev server, namespace default, plaintext', () => {
    const settings = loadTemporalConnectionSettings({ env: { HOME: home } });
    assert.equal(settings.address, '127.0.0.1:7233');
    assert.equal(settings.namespace, 'default');
    assert.equal(settings.tls, false);
    assert.equal(settings.apiKey, undefined);
    assert.deepEqual(clientConnectionOptions(settings), { address: '127.0.0.1:7233', tls: false });
    assert.deepEqual(workerConnectionOptions(settings), { address: '127.0.0.1:7233', tls: false });
  });

  test('TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_API_KEY (an API key turns TLS on, as for Temporal Cloud)', () => {
    const settings = loadTemporalConnectionSettings({ env: { HOME: home, TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233', TEMPORAL_NAMESPACE: 'dr.a1b2c', TEMPORAL_API_KEY: 'key-123' } });
    assert.equal(settings.address, 'eu-west-1.aws.api.temporal.io:7233');
    assert.equal(settings.namespace, 'dr.a1b2c');
    assert.equal(settings.apiKey, 'key-123');
    assert.deepEqual(settings.tls, {});
    assert.deepEqual(clientConnectionOptions(settings), { address: 'eu-west-1.aws.api.temporal.io:7233', tls: {}, apiKey: 'key-123' });
  });

  test('a profile of temporal.toml, chosen by TEMPORAL_PROFILE, with TLS files; variables override the file', () => {
    const file = toml('profiles.toml', [
      '[profile.default]', 'address = "localhost:7233"',
      '[profile.prod]', 'address = "temporal.prod.internal:7233"', 'namespace = "dr"',
      '[profile.prod.tls]', `server_ca_cert_path = "${ca.caCert}"`, `client_cert_path = "${client.cert}"`, `client_key_path = "${client.key}"`, 'server_name = "temporal.prod.internal"',
    ].join('\n'));
    const prod = loadTemporalConnectionSettings({ env: { HOME: home, TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' } });
    assert.equal(prod.address, 'temporal.prod.internal:7233');
    assert.equal(prod.namespace, 'dr');
    assert.ok(prod.tls);
    assert.equal(prod.tls.serverNameOverride, 'temporal.prod.internal');
    assert.ok(Buffer.isBuffer(prod.tls.serverRootCACertificate));
    assert.ok(Buffer.isBuffer(prod.tls.clientCertPair?.crt));
    assert.match(prod.source, /profile "prod" of .*profiles\.toml/);
    const overridden = loadTemporalConnectionSettings({ env: { HOME: home, TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod', TEMPORAL_NAMESPACE: 'drill' } });
    assert.equal(overridden.namespace, 'drill');
    assert.equal(loadTemporalConnectionSettings({ env: { HOME: home, TEMPORAL_CONFIG_FILE: file } }).address, 'localhost:7233');
    assert.equal(loadTemporalConnectionSettings({ env: { HOME: home, TEMPORAL_CONFIG_FILE: file }, profile: 'prod' }).namespace, 'dr');
  });

  test('the default file is where the temporal CLI keeps it: $XDG_CONFIG_HOME (or ~/.config)/temporalio/temporal.toml', () => {
    const xdg = path.join(home, 'xdg');
    mkdirSync(path.join(xdg, 'temporalio'), { recursive: true });
    writeFileSync(path.join(xdg, 'temporalio', 'temporal.toml'), '[profile.default]\naddress = "from-default-file:7233"\n');
    assert.equal(loadTemporalConnectionSettings({ env: { HOME: home, XDG_CONFIG_HOME: xdg } }).address, 'from-default-file:7233');
  });

  test('a TEMPORAL_CONFIG_FILE that does not exist is an error (envconfig alone would quietly use the defaults)', () => {
    refused(() => loadTemporalConnectionSettings({ env: { HOME: home, TEMPORAL_CONFIG_FILE: path.join(home, 'typo.toml') } }), /config file .*typo\.toml does not exist/, /TEMPORAL_CONFIG_FILE/);
  });

  test('an unknown profile lists the known ones', () => {
    const file = toml('two.toml', '[profile.default]\naddress = "a:1"\n[profile.staging]\naddress = "b:2"\n');
    refused(() => loadTemporalConnectionSettings({ env: { HOME: home, TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prdo' } }), /no Temporal profile "prdo" in .*two\.toml/, /"default", "staging"/);
  });

  test('a file that is not TOML is named', () => {
    const file = toml('broken.toml', '[profile.default\naddress = \n');
    refused(() => loadTemporalConnectionSettings({ env: { HOME: home, TEMPORAL_CONFIG_FILE: file } }), /config file .*broken\.toml cannot be used/);
  });

  test('TLS files: missing, unreadable, not PEM, a certificate without its key, a key of another certificate', () => {
    const missing = path.join(home, 'nope.crt');
    refused(() => loadTemporalConnectionSettings({ env: { HOME: home, TEMPORAL_TLS_CLIENT_CERT_PATH: missing, TEMPORAL_TLS_CLIENT_KEY_PATH: client.key } }), /TLS file .*nope\.crt does not exist/, /tls\.client_cert_path of the environment \(or TEMPORAL_TLS_CLIENT_CERT_PATH\)/);
    const notPem = toml('not-pem.crt', 'hello');
    refused(() => loadTemporalConnectionSettings({ env: { HOME: home, TEMPORAL_TLS_SERVER_CA_CERT_PATH: notPem } }), /not-pem\.crt is not a PEM certificate/);
    refused(() => loadTemporalConnectionSettings({ env: { HOME: home, TEMPORAL_TLS_CLIENT_CERT_PATH: client.cert } }), /sets tls\.client_cert but not tls\.client_key/, /TEMPORAL_TLS_CLIENT_KEY_PATH/);
    refused(() => loadTemporalConnectionSettings({ env: { HOME: home, TEMPORAL_TLS_CLIENT_CERT_PATH: client.cert, TEMPORAL_TLS_CLIENT_KEY_PATH: other.key } }), /client key .* does not belong to its client certificate/);
    if (process.getuid?.() !== 0) {
      const locked = toml('locked.crt', 'x');
      chmodSync(locked, 0);
      refused(() => loadTemporalConnectionSettings({ env: { HOME: home, TEMPORAL_TLS_SERVER_CA_CERT_PATH: locked } }), /cannot be read by this user/);
    }
    const file = toml('missing-in-profile.toml', `[profile.default]\naddress = "x:1"\n[profile.default.tls]\nserver_ca_cert_path = "${missing}"\n`);
    refused(() => loadTemporalConnectionSettings({ env: { HOME: home, TEMPORAL_CONFIG_FILE: file } }), /nope\.crt does not exist/, /tls\.server_ca_cert_path of profile "default" of .*missing-in-profile\.toml/);
  });

  test('an API key over plaintext, host verification turned off and an address without a port are refused', () => {
    refused(() => loadTemporalConnectionSettings({ env: { HOME: home, TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' } }), /API key but turns TLS off/);
    refused(() => loadTemporalConnectionSettings({ env: { HOME: home, TEMPORAL_TLS: 'true', TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' } }), /DISABLE_HOST_VERIFICATION/, /TEMPORAL_TLS_SERVER_NAME/);
    refused(() => loadTemporalConnectionSettings({ env: { HOME: home, TEMPORAL_ADDRESS: 'temporal.example.com' } }), /"temporal\.example\.com" .* is not HOST:PORT/);
  });

  test('inline PEM data (TEMPORAL_TLS_*_DATA) works as well as paths', async () => {
    const { readFileSync } = await import('node:fs');
    const settings = loadTemporalConnectionSettings({ env: { HOME: home, TEMPORAL_TLS_CLIENT_CERT_DATA: readFileSync(client.cert, 'utf8'), TEMPORAL_TLS_CLIENT_KEY_DATA: readFileSync(client.key, 'utf8') } });
    assert.ok(settings.tls && settings.tls.clientCertPair);
  });
});
