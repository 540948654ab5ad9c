import { CliError, connectClient, ExitCode } from '../connection';
import { RunbookNotFound, RunbookRefusal } from '../runbooks';

export type TemporalContext = Awaited<ReturnType<typeof connectClient>>;

/** Runs `fn` with a connected client, closes it, and turns refusals and unknown ids into exit codes. */
export async function withTemporal<T>(fn: (ctx: TemporalContext) => Promise<T>): Promise<T> {
  const ctx = await connectClient();
  try {
    return await fn(ctx);
  } catch (error) {
    // One line a person can act on; the validator's text is kept as it is.
    if (error instanceof RunbookRefusal) throw new CliError(`refused: ${error.message.replace(/\s*\n\s*/g, ' ')}`, ExitCode.Refused);
    if (error instanceof RunbookNotFound) throw new CliError(`${error.message} (see \`dr list --all\`)`, ExitCode.Failed);
    throw error;
  } finally {
    await ctx.connection.close();
  }
}
