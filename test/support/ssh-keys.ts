import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface TestSshKey {
  name: string;
  privateFile: string;
  publicFile: string;
  /** `type base64 comment`, the .pub file's line. */
  publicLine: string;
  /** As `ssh-keygen -l` prints it. */
  fingerprint: string;
}

/** The key kinds an approver may use, as `ssh-keygen -t … -b …` arguments. */
export const sshKeyKinds = {
  ed25519: ['-t', 'ed25519'],
  'ecdsa-p256': ['-t', 'ecdsa', '-b', '256'],
  'ecdsa-p384': ['-t', 'ecdsa', '-b', '384'],
  'ecdsa-p521': ['-t', 'ecdsa', '-b', '521'],
  'rsa-3072': ['-t', 'rsa', '-b', '3072'],
} as const;
export type SshKeyKind = keyof typeof sshKeyKinds;

/** Makes a key with the real ssh-keygen (Debian's openssh-client), as an approver would. */
export function makeSshKey(dir: string, name: string, kind: SshKeyKind, options: { passphrase?: string; format?: 'PEM' | 'PKCS8' } = {}): TestSshKey {
  const privateFile = path.join(dir, name);
  const args = ['-q', ...sshKeyKinds[kind], '-N', options.passphrase ?? '', '-C', `${name}@test`, '-f', privateFile];
  if (options.format) args.push('-m', options.format);
  execFileSync('ssh-keygen', args, { stdio: 'pipe' });
  const publicFile = `${privateFile}.pub`;
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicFile], { encoding: 'utf8' }).split(' ')[1] as string;
  return { name, privateFile, publicFile, publicLine: readFileSync(publicFile, 'utf8').trim(), fingerprint };
}
