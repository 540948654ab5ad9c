import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PrerequisiteError } from '../lib/prerequisite-error';

/**
 * A throwaway certificate authority for the local stack and its tests: one CA, server certificates for
 * loopback names, client certificates for mutual TLS. Made with the openssl CLI (Debian's openssl);
 * P-256 keys, so it takes milliseconds. Never for production: the CA key lies beside its certificate.
 */

export interface IssuedCertificate {
  /** PEM certificate file. */
  cert: string;
  /** PEM private key file (mode 0600). */
  key: string;
}

export interface TestCertificateAuthority {
  readonly dir: string;
  /** The CA certificate: what a server's CAfile / a client's server_ca_cert_path names. */
  readonly caCert: string;
  issueServer(name: string, options?: { dnsNames?: string[]; ipAddresses?: string[]; days?: number }): IssuedCertificate;
  issueClient(name: string, options?: { days?: number }): IssuedCertificate;
}

function openssl(args: string[]): void {
  try {
    execFileSync(process.env.DR_OPENSSL ?? 'openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new PrerequisiteError('openssl is not installed', 'run `npm run bootstrap` (apt-get install openssl), or set DR_OPENSSL');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() ?? e.message}`);
  }
}

const keyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export function createTestCertificateAuthority(dir: string, commonName = 'dr-runbooks test CA', days = 7): TestCertificateAuthority {
  mkdirSync(dir, { recursive: true });
  const caCert = path.join(dir, 'ca.crt');
  const caKey = path.join(dir, 'ca.key');
  openssl(['req', '-x509', ...keyArgs, '-keyout', caKey, '-out', caCert, '-days', String(days), '-subj', `/CN=${commonName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  chmodSync(caKey, 0o600);

  function issue(name: string, extensions: string[], subjectName: string, validDays: number): IssuedCertificate {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`certificate name "${name}" must be letters, digits, dot, dash or underscore`);
    const key = path.join(dir, `${name}.key`);
    const csr = path.join(dir, `${name}.csr`);
    const cert = path.join(dir, `${name}.crt`);
    const ext = path.join(dir, `${name}.ext`);
    writeFileSync(ext, extensions.join('\n') + '\n');
    openssl(['req', ...keyArgs, '-keyout', key, '-out', csr, '-subj', `/CN=${subjectName}`]);
    chmodSync(key, 0o600);
    openssl(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', String(validDays), '-extfile', ext]);
    return { cert, key };
  }

  return {
    dir,
    caCert,
    issueServer(name, options = {}) {
      const dnsNames = options.dnsNames ?? ['localhost'];
      const ipAddresses = options.ipAddresses ?? ['127.0.0.1'];
      const san = [...dnsNames.map((n) => `DNS:${n}`), ...ipAddresses.map((ip) => `IP:${ip}`)].join(',');
      return issue(name, ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth', `subjectAltName=${san}`], dnsNames[0] ?? name, options.days ?? days);
    },
    issueClient(name, options = {}) {
      return issue(name, ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth'], name, options.days ?? days);
    },
  };
}
