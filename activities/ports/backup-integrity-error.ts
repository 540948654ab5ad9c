import { PlatformVerificationError } from './database-platform';

/**
 * A backup (files or cache) refused because its data failed an integrity check (a checksum, the authentication tag, the
 * manifest); names the object or file. A verification error, so it is not retried.
 */
export class BackupIntegrityError extends PlatformVerificationError {
  constructor(
    message: string,
    /** The object key (with version) or the archive path that failed. */
    readonly subject: string,
  ) {
    super(message);
    // The base class types `name` as its own literal; the failure type an operator sees is this one.
    Object.defineProperty(this, 'name', { value: 'BackupIntegrityError' });
  }
}
