/**
 * A problem with the machine rather than with the code: a missing binary, a port in use,
 * a server that refuses to start. Entry points print it as one line with its fix, no stack trace.
 */
export class PrerequisiteError extends Error {
  override readonly name = 'PrerequisiteError';
  constructor(
    readonly what: string,
    readonly fix: string,
  ) {
    super(`${what}. Fix: ${fix}`);
  }
}

/** Runs an entry point; a PrerequisiteError becomes one clear line and exit code 2. */
export async function runMain(main: () => Promise<void | number>): Promise<void> {
  try {
    const code = await main();
    if (typeof code === 'number') process.exitCode = code;
  } catch (error) {
    if (error instanceof PrerequisiteError) {
      process.stderr.write(`error: ${error.what}\nfix: ${error.fix}\n`);
      process.exit(2);
    }
    throw error;
  }
}
