// The one way an error becomes words for a person (timeline, audit, CLI). Temporal wraps what went wrong
// (an activity's failure, a validator's refusal) in a failure of its own as `cause`.

/**
 * The error's message and, when it wraps a cause, the cause's: "Activity task failed: scripted failure".
 * With `innermost`, only the wrapped cause's words (what the activity or validator said), else the message.
 */
export function errorText(error: unknown, options: { innermost?: boolean } = {}): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const causeText = cause instanceof Error && cause.message ? cause.message : undefined;
  if (options.innermost) return causeText ?? error.message;
  return causeText ? `${error.message}: ${causeText}` : error.message;
}
