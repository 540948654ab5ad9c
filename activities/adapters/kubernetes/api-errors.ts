// What the API server said, in words an operator can act on: a failed @kubernetes/client-node call is an
// ApiException with the HTTP code and the Status object the server sent as its body.

/** The HTTP status of a failed client call (an ApiException's `code`). */
export function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The server's own message (the Status object's `message`), else the error's. */
export function serverMessage(error: unknown): string {
  const body = (error as { body?: unknown } | undefined)?.body;
  let status: unknown = body;
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body);
    } catch {
      return body.trim() || (error as Error).message;
    }
  }
  const message = (status as { message?: unknown } | undefined)?.message;
  if (typeof message === 'string' && message) return message;
  const code = statusOf(error);
  return code !== undefined ? `HTTP ${code}` : (error as Error)?.message ?? String(error);
}

/**
 * An error that says what was being done and what the server answered; a 403 adds where the worker's
 * permissions come from, a 401 that its credentials were not accepted.
 */
export function kubernetesError(error: unknown, doing: string): Error {
  const code = statusOf(error);
  const hint = code === 403 ? " (the worker's ServiceAccount is not allowed: its Role is deploy/kubernetes/rbac.yaml)"
    : code === 401 ? ' (the cluster did not accept the credentials: check the kubeconfig, its context, or the ServiceAccount token)'
      : '';
  const wrapped = new Error(`${doing}: ${serverMessage(error)}${hint}`);
  Object.assign(wrapped, { code });
  return wrapped;
}
