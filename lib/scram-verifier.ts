import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

// A PostgreSQL SCRAM-SHA-256 password verifier (RFC 5802/7677, as PostgreSQL stores it in pg_authid):
// `ALTER ROLE … PASSWORD '<verifier>'` sets a password without the password itself ever reaching the
// server, its statement log or pg_stat_statements, as psql's \password does.

const iterations = 4096;

export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(16)): string {
  // PostgreSQL SASLprep-normalises the password; the passwords we make are ASCII, where that is the identity.
  if (!/^[\x21-\x7e]+$/.test(password)) throw new Error('scramSha256Verifier: the password must be printable ASCII without spaces');
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** A password for a database role: 32 random bytes, URL-safe (it goes into connection URLs unescaped). */
export function newDatabasePassword(): string {
  return randomBytes(32).toString('base64url');
}
