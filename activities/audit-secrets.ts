/*
 * Defence in depth for the audit trail: secrets are referred to by name everywhere, so an audit detail
 * never needs a password, token or credentialed URL. A key that looks like one, or a URL carrying a
 * password, is refused before anything is written (the audit table is append-only: a leaked secret
 * could never be removed). A key that only names or points at a secret (`secretName`, `passwordSecretRef`,
 * `tokenId`) is fine.
 */

const secretWords = ['password', 'passwd', 'passphrase', 'pwd', 'secret', 'token', 'apikey', 'privatekey', 'accesskey', 'credential', 'connectionstring', 'authorization', 'cookie'];
const referenceSuffixes = ['name', 'names', 'ref', 'refs', 'id', 'ids'];
/** scheme://user:password@host — the password part is what matters. */
const credentialedUrl = /[a-z][a-z0-9+.-]*:\/\/[^\s/@:]*:[^\s/@]+@/i;

export interface SecretLikeValue {
  /** Where it is, e.g. `detail.target.password`; the value itself is never repeated. */
  path: string;
  reason: string;
}

function secretWordIn(key: string): string | undefined {
  const normalised = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (referenceSuffixes.some((suffix) => normalised.endsWith(suffix) && normalised.length > suffix.length && secretWords.some((w) => normalised.slice(0, -suffix.length).endsWith(w)))) return undefined;
  return secretWords.find((word) => normalised.includes(word));
}

/** Every key or string in `value` that looks like a secret (empty when none). */
export function findSecretLikeValues(value: unknown, path = 'detail'): SecretLikeValue[] {
  if (typeof value === 'string') {
    return credentialedUrl.test(value) ? [{ path, reason: 'is a URL with a password in it; refer to the secret by name' }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => findSecretLikeValues(item, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).flatMap(([key, inner]) => {
      const word = secretWordIn(key);
      const found: SecretLikeValue[] = word
        ? [{ path: `${path}.${key}`, reason: `the key looks like a secret ("${word}"); audit details refer to secrets by name (e.g. ${key}Name)` }]
        : [];
      return found.concat(findSecretLikeValues(inner, `${path}.${key}`));
    });
  }
  return [];
}
