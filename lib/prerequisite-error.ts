/**
 * A problem with the machine rather than with the code: a missing binary, a port in use,
 * a server that refuses to start. Entry points print it as one line with its fix, no stack trace;
 * `details` (e.g. the end of a server log) is printed above that line.
 */
export class PrerequisiteError extends Error {
  override readonly name = 'PrerequisiteError';
  constructor(
    readonly what: string,
    readonly fix: string,
    readonly details?: string,
  ) {
    super(`${what}. Fix: ${fix}`);
  }
}

/** Runs an entry point; a PrerequisiteError becomes one clear last line and exit code 2. */
export async function runMain(main: () => Promise<void | number>): Promise<void> {
  try {
    const code = await main();
    if (typeof code === 'number') process.exitCode = code;
  } catch (error) {
    if (error instanceof PrerequisiteError) {
      if (error.details) process.stderr.write(error.details.replace(/^/gm, '  | ') + '\n');
      process.stderr.write(`error: ${error.what}. Fix: ${error.fix}\n`);
      process.exit(2);
    }
    throw error;
  }
}
