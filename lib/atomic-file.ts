import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Replaces a file so that a reader sees either the old content or the new one, never half of it, and a
 * crash right after the call still finds the new one: write a temporary file beside it, fsync it, rename
 * it over the old one, fsync the directory (which is what makes the rename itself durable). A crash
 * before the rename leaves at most a stray `.<name>.tmp-*` file, which readers of a directory skip.
 * The one way this project replaces a file.
 */
export function writeFileAtomic(file: string, content: string | Uint8Array, mode = 0o600): void {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const fd = openSync(temp, 'wx', mode);
    try {
      writeFileSync(fd, content); // to an fd: writes all of it
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  fsyncDirectory(dir);
}

/** Makes a directory's entries (a rename, a new file) durable. */
export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** True for the temporary files writeFileAtomic leaves behind when it is interrupted. */
export function isAtomicWriteTemp(name: string): boolean {
  return /^\..+\.tmp-\d+-[0-9a-f]{8}$/.test(name);
}
