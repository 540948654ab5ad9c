import { AllowedSignersError, namespaceAllowed, parseAllowedSigners, principalMatches, type AllowedSigner } from './allowed-signers';
import { formatPublicKey, SshKeyError, type SshKeyType } from './public-key';
import { parseArmoredSshSignature, SshSignatureFormatError, sshSignatureMatches, type SshSignature, type SshsigHashAlgorithm } from './sshsig';

export type SshSignatureRefusal =
  | 'malformed-signature'
  | 'unsupported-key'
  | 'wrong-namespace'
  | 'bad-signature'
  | 'invalid-principal'
  | 'unknown-principal'
  | 'key-not-allowed'
  | 'namespace-not-allowed'
  | 'not-yet-valid'
  | 'expired';

export interface SshSignatureVerified {
  readonly ok: true;
  readonly principal: string;
  /** `SHA256:…`, as `ssh-keygen -l` and `ssh-keygen -Y verify` print it. */
  readonly fingerprint: string;
  readonly keyType: SshKeyType;
  /** `type base64` of the signing key. */
  readonly publicKey: string;
  /** The allowed-signers line that admitted the key: with it an auditor can run `ssh-keygen -Y verify` alone. */
  readonly allowedSignersLine: string;
  readonly hashAlgorithm: SshsigHashAlgorithm;
}

export interface SshSignatureRefused {
  readonly ok: false;
  readonly reason: SshSignatureRefusal;
  /** One sentence a person can act on; never contains the signature itself. */
  readonly message: string;
  /** The signing key's fingerprint, once the signature could be read. */
  readonly fingerprint?: string;
}

export type SshSignatureVerification = SshSignatureVerified | SshSignatureRefused;

export interface VerifySshSignatureInput {
  /** The file's text (parsed here, AllowedSignersError if malformed) or what parseAllowedSigners returned. */
  allowedSigners: string | readonly AllowedSigner[];
  /** Who the vote says signed it (`ssh-keygen -Y verify -I`). */
  principal: string;
  /** The signature namespace we sign under (`-n`), e.g. "dr-runbooks-vote@v1". */
  namespace: string;
  /** The exact bytes that were signed (a string is taken as UTF-8). */
  message: Uint8Array | string;
  /** The armored signature, "-----BEGIN SSH SIGNATURE-----…". */
  signature: unknown;
  /** The time the key must be valid at (valid-after/valid-before); now when omitted. */
  at?: Date;
}

/** Armored SSHSIG objects are 300–2000 bytes; anything far bigger is refused before it is parsed. */
const maxSignatureLength = 16 * 1024;
const maxPrincipalLength = 1024;

function refuse(reason: SshSignatureRefusal, message: string, fingerprint?: string): SshSignatureRefused {
  return fingerprint ? { ok: false, reason, message, fingerprint } : { ok: false, reason, message };
}

function printable(text: string, max = 80): string {
  const shown = JSON.stringify(text.length > max ? text.slice(0, max) + '…' : text);
  return shown;
}

/**
 * What `ssh-keygen -Y verify -f allowed_signers -I principal -n namespace -s sig < message` decides,
 * with the reason when it says no. Hostile input (any signature, principal or message) never throws.
 */
export function verifySshSignature(input: VerifySshSignatureInput): SshSignatureVerification {
  const signers = typeof input.allowedSigners === 'string' ? parseAllowedSigners(input.allowedSigners) : input.allowedSigners;
  const { principal, namespace } = input;
  if (!namespace) throw new TypeError('verifySshSignature needs the namespace the signature must carry');
  const message = typeof input.message === 'string' ? Buffer.from(input.message, 'utf8') : input.message;
  const atSeconds = Math.floor((input.at ?? new Date()).getTime() / 1000);

  if (typeof principal !== 'string' || principal === '' || principal.length > maxPrincipalLength || /[\u0000-\u0020\u007f-\u009f"]/.test(principal)) {
    return refuse('invalid-principal', 'the signer name is empty, too long, or contains blanks, quotes or control characters');
  }
  if (typeof input.signature !== 'string' || input.signature.length > maxSignatureLength) {
    return refuse('malformed-signature', 'the signature is missing, not text, or far too long to be an SSH signature');
  }

  let signature: SshSignature;
  try {
    signature = parseArmoredSshSignature(input.signature);
  } catch (error) {
    if (error instanceof SshKeyError && error.kind === 'unsupported') return refuse('unsupported-key', `the signature is made with a key we do not accept: ${error.message}`);
    if (error instanceof SshSignatureFormatError || error instanceof SshKeyError) return refuse('malformed-signature', `the signature is not a valid SSH signature: ${error.message}`);
    throw error;
  }
  const fingerprint = signature.publicKey.fingerprint;
  if (signature.namespace !== namespace) {
    return refuse('wrong-namespace', `the signature was made for namespace ${printable(signature.namespace)}, not ${printable(namespace)}: it was not made for this purpose`, fingerprint);
  }
  let matches: boolean;
  try {
    matches = sshSignatureMatches(signature, message);
  } catch (error) {
    if (error instanceof SshSignatureFormatError) return refuse('malformed-signature', `the signature is not a valid SSH signature: ${error.message}`, fingerprint);
    throw error;
  }
  if (!matches) {
    return refuse('bad-signature', `the signature by ${fingerprint} does not match this statement: it was made over different text (another gate, run or decision) or altered`, fingerprint);
  }

  // Like sshsig.c: a line admits the key when its principals match, the key is the same, its namespaces
  // option (if any) allows ours and the time is within valid-after/valid-before. Otherwise we say which
  // of those failed on the closest line.
  const forPrincipal = signers.filter((s) => principalMatches(s, principal));
  if (forPrincipal.length === 0) {
    return refuse('unknown-principal', `${printable(principal)} is not in the allowed signers`, fingerprint);
  }
  const sameKey = forPrincipal.filter((s) => !s.certAuthority && s.key?.blob.equals(signature.publicKey.blob));
  if (sameKey.length === 0) {
    const listedFor = signers.filter((s) => !s.certAuthority && s.key?.blob.equals(signature.publicKey.blob)).map((s) => s.principals);
    const elsewhere = listedFor.length ? ` (it is listed for ${listedFor.map((p) => printable(p)).join(', ')})` : '';
    const caOnly = forPrincipal.every((s) => s.certAuthority) ? '; only a certificate authority is listed for them, and certificates are not accepted' : '';
    return refuse('key-not-allowed', `the key ${fingerprint} is not allowed to sign for ${printable(principal)}${elsewhere}${caOnly}`, fingerprint);
  }
  const inNamespace = sameKey.filter((s) => namespaceAllowed(s, namespace));
  if (inNamespace.length === 0) {
    return refuse('namespace-not-allowed', `the allowed signers limit ${fingerprint} for ${printable(principal)} to namespaces ${printable(sameKey[0]?.namespaces ?? '')}, which exclude ${printable(namespace)}`, fingerprint);
  }
  const admitted = inNamespace.find((s) => (s.validAfter === undefined || atSeconds >= s.validAfter) && (s.validBefore === undefined || atSeconds <= s.validBefore));
  if (!admitted) {
    const line = inNamespace[0] as AllowedSigner;
    const when = (seconds: number) => new Date(seconds * 1000).toISOString();
    if (line.validBefore !== undefined && atSeconds > line.validBefore) {
      return refuse('expired', `the key ${fingerprint} of ${printable(principal)} expired at ${when(line.validBefore)} (valid-before on line ${line.line})`, fingerprint);
    }
    return refuse('not-yet-valid', `the key ${fingerprint} of ${printable(principal)} is valid only from ${when(line.validAfter ?? 0)} (valid-after on line ${line.line})`, fingerprint);
  }
  return {
    ok: true,
    principal,
    fingerprint,
    keyType: signature.publicKey.type,
    publicKey: formatPublicKey(signature.publicKey),
    allowedSignersLine: admitted.text.trim(),
    hashAlgorithm: signature.hashAlgorithm,
  };
}

export { AllowedSignersError };
