import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Time-based one-time codes (RFC 6238 over RFC 4226's HOTP), as authenticator apps make them: a base32
 * secret (RFC 4648), HMAC-SHA1, 6 digits, 30-second steps by default. For approvers voting from the Web
 * UI, where no SSH key is at hand: the worker keeps each approver's secret and checks the code they type.
 */

export const totpAlgorithms = ['SHA1', 'SHA256', 'SHA512'] as const;
export type TotpAlgorithm = (typeof totpAlgorithms)[number];

export interface TotpParameters {
  algorithm?: TotpAlgorithm;
  /** 6 (what every app shows by default), 7 or 8. */
  digits?: number;
  /** Seconds per step; 30 unless the enrolment said otherwise. */
  period?: number;
}

/** RFC 4226 §4 (R6): a shared secret is at least 128 bits. */
export const minimumSecretBytes = 16;

export class TotpError extends Error {
  override readonly name = 'TotpError';
}

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding, as otpauth:// URIs carry it. */
export function encodeBase32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += base32Alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += base32Alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** Reads a base32 secret as apps show it: any case, blanks between groups, padding optional. */
export function decodeBase32(text: string): Buffer {
  if (typeof text !== 'string') throw new TotpError('the TOTP secret must be base32 text');
  const compact = text.replace(/[ \t]/g, '').toUpperCase();
  const unpadded = compact.replace(/=+$/, '');
  if (compact.length !== unpadded.length && compact.length % 8 !== 0) throw new TotpError('the TOTP secret has wrong base32 padding');
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const [index, char] of [...unpadded].entries()) {
    const digit = base32Alphabet.indexOf(char);
    if (digit < 0) throw new TotpError(`the TOTP secret is not base32: character ${index + 1} is not A–Z or 2–7`);
    value = ((value << 5) | digit) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  if ([1, 3, 6].includes(unpadded.length % 8)) throw new TotpError('the TOTP secret has a base32 length no encoder writes (was it cut short?)');
  return Buffer.from(bytes);
}

/** A new secret for enrolment: 20 random bytes (160 bits, RFC 4226's recommendation), base32. */
export function generateTotpSecret(byteLength = 20): string {
  if (byteLength < minimumSecretBytes) throw new TotpError(`a TOTP secret needs at least ${minimumSecretBytes} bytes`);
  return encodeBase32(randomBytes(byteLength));
}

function parameters(options: TotpParameters): Required<TotpParameters> {
  const algorithm = options.algorithm ?? 'SHA1';
  const digits = options.digits ?? 6;
  const period = options.period ?? 30;
  if (!totpAlgorithms.includes(algorithm)) throw new TotpError(`TOTP algorithm must be one of ${totpAlgorithms.join(', ')}`);
  if (!Number.isInteger(digits) || digits < 6 || digits > 8) throw new TotpError('TOTP codes have 6, 7 or 8 digits');
  if (!Number.isInteger(period) || period < 1 || period > 300) throw new TotpError('the TOTP period is a whole number of seconds from 1 to 300');
  return { algorithm, digits, period };
}

function secretBytes(secret: string | Uint8Array): Buffer {
  const bytes = typeof secret === 'string' ? decodeBase32(secret) : Buffer.from(secret);
  if (bytes.length < minimumSecretBytes) {
    throw new TotpError(`the TOTP secret is ${bytes.length * 8} bits; at least ${minimumSecretBytes * 8} are required (RFC 4226): enrol the approver again with a new secret`);
  }
  return bytes;
}

/** RFC 4226 HOTP: HMAC over the 8-byte big-endian counter, dynamic truncation, the low `digits` decimals. */
export function hotp(key: Uint8Array, counter: number, digits = 6, algorithm: TotpAlgorithm = 'SHA1'): string {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new TotpError('the HOTP counter must be a non-negative integer');
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm.toLowerCase(), key).update(message).digest();
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The time step a moment falls in: floor(unix seconds / period), the T of RFC 6238 (T0 = 0). */
export function totpStep(at: Date | number, period = 30): number {
  const ms = typeof at === 'number' ? at : at.getTime();
  return Math.floor(ms / 1000 / period);
}

/** The code an authenticator app shows at a moment. */
export function totpCode(secret: string | Uint8Array, at: Date | number, options: TotpParameters = {}): string {
  const { algorithm, digits, period } = parameters(options);
  return hotp(secretBytes(secret), totpStep(at, period), digits, algorithm);
}

export interface VerifyTotpOptions extends TotpParameters {
  /** When the code was typed; now when omitted. */
  at?: Date | number;
  /** Steps accepted either side of `at`, for clock skew and typing time; 1 (±30 s) by default, at most 10. */
  window?: number;
  /**
   * The step of this approver's last accepted code: a code for that step or an earlier one is refused
   * (a code is used once). The caller stores the returned `step` after it accepts a vote.
   */
  lastUsedStep?: number;
}

export type TotpRefusal = 'malformed-code' | 'wrong-code' | 'stale-code' | 'reused-code';

export type TotpVerification =
  | { ok: true; step: number; drift: number }
  | { ok: false; reason: TotpRefusal; message: string };

/** How far back a wrong code is compared, only to tell "expired" from "wrong" in the message. */
const staleHorizonSteps = 20;

/**
 * Checks a typed code. Every candidate step is computed and compared in constant time, whatever
 * matches, so timing says nothing about the secret or how close a guess was. Hostile input never throws;
 * a bad secret or bad parameters (the caller's config) do.
 */
export function verifyTotp(secret: string | Uint8Array, code: unknown, options: VerifyTotpOptions = {}): TotpVerification {
  const { algorithm, digits, period } = parameters(options);
  const key = secretBytes(secret);
  const window = options.window ?? 1;
  if (!Number.isInteger(window) || window < 0 || window > 10) throw new TotpError('the TOTP window is a whole number of steps from 0 to 10');
  const lastUsed = options.lastUsedStep;
  if (lastUsed !== undefined && !Number.isSafeInteger(lastUsed)) throw new TotpError('lastUsedStep must be an integer step');

  const typed = typeof code === 'string' ? code.replace(/ /g, '') : typeof code === 'number' && Number.isInteger(code) && code >= 0 ? String(code).padStart(digits, '0') : undefined;
  if (typed === undefined || typed.length !== digits || !/^[0-9]+$/.test(typed)) {
    return { ok: false, reason: 'malformed-code', message: `the one-time code must be ${digits} digits` };
  }
  const now = totpStep(options.at ?? Date.now(), period);
  const typedBytes = Buffer.from(typed, 'ascii');
  let accepted: number | undefined;
  let reused = false;
  let stale = false;
  for (let step = now - staleHorizonSteps; step <= now + window; step++) {
    if (step < 0) continue;
    const equal = timingSafeEqual(Buffer.from(hotp(key, step, digits, algorithm), 'ascii'), typedBytes);
    const inWindow = step >= now - window;
    const fresh = lastUsed === undefined || step > lastUsed;
    // The latest matching step wins, so a collision with an old step never shadows a fresh one.
    if (equal && inWindow && fresh) accepted = step;
    if (equal && inWindow && !fresh) reused = true;
    if (equal && !inWindow) stale = true;
  }
  if (accepted !== undefined) return { ok: true, step: accepted, drift: accepted - now };
  if (reused) return { ok: false, reason: 'reused-code', message: 'this one-time code (or a later one) was already used: wait for the next code' };
  if (stale) return { ok: false, reason: 'stale-code', message: 'this one-time code has expired: type the code the app shows now (and check the phone\'s clock)' };
  return { ok: false, reason: 'wrong-code', message: 'the one-time code is wrong' };
}

export interface OtpauthUriOptions extends TotpParameters {
  secret: string;
  /** Who the account is at, e.g. "dr-runbooks prod"; shown by the app above the code. */
  issuer: string;
  /** The approver, e.g. "alice". */
  account: string;
}

/**
 * The enrolment link authenticator apps read from a QR code (the Key URI format):
 * otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30.
 * Some apps ignore algorithm/digits/period and always use SHA1/6/30: keep those for people's phones.
 */
export function otpauthUri(options: OtpauthUriOptions): string {
  const { algorithm, digits, period } = parameters(options);
  const secret = encodeBase32(secretBytes(options.secret));
  for (const [field, value] of [['issuer', options.issuer], ['account', options.account]] as const) {
    if (typeof value !== 'string' || value.trim() === '') throw new TotpError(`the otpauth ${field} must not be blank`);
    if (value.includes(':') || /[\u0000-\u001f\u007f]/.test(value)) throw new TotpError(`the otpauth ${field} must not contain ":" or control characters`);
  }
  const label = `${encodeURIComponent(options.issuer)}:${encodeURIComponent(options.account)}`;
  const query = new URLSearchParams({ secret, issuer: options.issuer, algorithm, digits: String(digits), period: String(period) });
  return `otpauth://totp/${label}?${query.toString().replace(/\+/g, '%20')}`;
}
