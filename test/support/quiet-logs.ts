import { DefaultLogger, Runtime } from '@temporalio/worker';

let installed = false;
/** The SDK logs every worker state change at INFO; tests only want warnings. Call before any worker. */
export function quietTemporalLogs(): void {
  if (installed) return;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // already installed by another helper in this process
  }
  installed = true;
}
