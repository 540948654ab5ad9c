import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalStack, type LocalStack } from '../../stack/local-stack';
import { quietTemporalLogs } from './quiet-logs';

/**
 * A fresh local stack in a temporary directory, for one test file; `stop` also removes the directory.
 * With `temporalUiPort` the dev server also serves its Web UI there (`stack.temporal.uiUrl`).
 */
export async function startTestStack(options: { temporalUiPort?: number; encryptPayloads?: boolean } = {}): Promise<LocalStack & { stateDir: string }> {
  quietTemporalLogs();
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'dr-test-'));
  chmodSync(stateDir, 0o755); // the unprivileged PostgreSQL user must be able to enter it
  const stack = await startLocalStack({ stateDir, temporalUiPort: options.temporalUiPort, encryptPayloads: options.encryptPayloads });
  return {
    ...stack,
    stateDir,
    async stop() {
      await stack.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
