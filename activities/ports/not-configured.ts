/**
 * Stands in for an adapter the worker config does not set up: the activity is still registered (so
 * the workflow's types and the worker agree) and fails with a line saying which config key to add.
 */
export function notConfigured<T extends object>(what: string, configKey: string): T {
  return new Proxy({} as T, {
    get: (_target, property) => {
      if (property === 'then') return undefined; // not a thenable
      return () => Promise.reject(new Error(`${what} is not configured: add \`${configKey}\` to the worker config (${String(property)} was called)`));
    },
  });
}
