import { PlatformRequestError } from './database-platform';

const identifierPattern = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * Ids the caller chooses (backup, restore, archive kind): 1-63 of a-z, 0-9 and '-', starting with a
 * letter, so each is safe as a file name, an object key part and a cloud resource name.
 */
export function assertIdentifier(field: string, value: unknown): string {
  if (typeof value !== 'string' || !identifierPattern.test(value)) {
    throw new PlatformRequestError(`${field} ${JSON.stringify(value)} is not valid: use 1-63 characters a-z, 0-9 and '-', starting with a letter`);
  }
  return value;
}
