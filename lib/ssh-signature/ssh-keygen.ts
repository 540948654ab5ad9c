import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PrerequisiteError } from '../prerequisite-error';
import type { SshsigHashAlgorithm } from './sshsig';

/** The real OpenSSH tool (Debian: openssh-client); DR_SSH_KEYGEN overrides where it is. */
export function sshKeygenBinary(): string {
  return process.env.DR_SSH_KEYGEN ?? 'ssh-keygen';
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], input: Uint8Array, timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const binary = sshKeygenBinary();
    // stdin carries the message; a passphrase prompt goes to the terminal (/dev/tty), not to these pipes.
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ENOENT') {
        reject(new PrerequisiteError(`${binary} is not installed`, 'install OpenSSH\'s client tools (Debian: apt-get install openssh-client; `npm run bootstrap` does it), or set DR_SSH_KEYGEN'));
      } else reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8').trim() });
    });
    child.stdin.on('error', () => undefined); // ssh-keygen may exit before reading all of stdin
    child.stdin.end(Buffer.from(input));
  });
}

export interface SshKeygenSignOptions {
  /** The private key, or its `.pub` file when the private key is held by ssh-agent. */
  keyFile: string;
  namespace: string;
  message: Uint8Array | string;
  hashAlgorithm?: SshsigHashAlgorithm;
  /** How long to wait, a passphrase prompt included; 2 minutes by default. */
  timeoutMs?: number;
  /** The environment ssh-keygen runs in (SSH_AUTH_SOCK finds the agent); this process's by default. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Signs with `ssh-keygen -Y sign -f KEY -n NAMESPACE`, so keys we cannot read ourselves work too: keys
 * with a passphrase (ssh-keygen asks on the terminal) and keys held by ssh-agent (SSH_AUTH_SOCK).
 */
export async function signWithSshKeygen(options: SshKeygenSignOptions): Promise<string> {
  const args = ['-Y', 'sign', '-f', options.keyFile, '-n', options.namespace];
  if (options.hashAlgorithm) args.push('-O', `hashalg=${options.hashAlgorithm}`);
  const message = typeof options.message === 'string' ? Buffer.from(options.message, 'utf8') : options.message;
  const result = await run(args, message, options.timeoutMs ?? 120_000, options.env);
  if (result.code !== 0 || !result.stdout.includes('-----BEGIN SSH SIGNATURE-----')) {
    const said = result.stderr.split('\n').filter((l) => !/^Signing data on standard input/.test(l)).join('; ') || `exit code ${result.code}`;
    throw new Error(`ssh-keygen could not sign with ${options.keyFile}: ${said}`);
  }
  return result.stdout;
}

export interface SshKeygenVerifyOptions {
  allowedSigners: string;
  principal: string;
  namespace: string;
  message: Uint8Array | string;
  signature: string;
  /** `-Overify-time=`: the time the key must be valid at; now when omitted. */
  at?: Date;
}

function sshTime(at: Date): string {
  return at.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
}

/**
 * `ssh-keygen -Y verify -f allowed_signers -I principal -n namespace -s sig < message`: what an auditor
 * runs. Returns whether it accepted, with its own words.
 */
export async function verifyWithSshKeygen(options: SshKeygenVerifyOptions): Promise<{ ok: boolean; output: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dr-sshsig-'));
  try {
    const signers = path.join(dir, 'allowed_signers');
    const sig = path.join(dir, 'message.sig');
    writeFileSync(signers, options.allowedSigners);
    writeFileSync(sig, options.signature);
    const args = ['-Y', 'verify', '-f', signers, '-I', options.principal, '-n', options.namespace, '-s', sig];
    if (options.at) args.push('-O', `verify-time=${sshTime(options.at)}`);
    const message = typeof options.message === 'string' ? Buffer.from(options.message, 'utf8') : options.message;
    const result = await run(args, message, 30_000);
    return { ok: result.code === 0, output: `${result.stdout}${result.stderr}`.trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
