import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Starts a server in a fresh temporary state directory, for one test file (`startKubernetesControlPlane`,
 * `startMotoServer`, ...); its `stop` also removes the directory, and so does a failed start.
 */
export async function startInTempDir<T extends { stop(): Promise<void> }>(prefix: string, start: (stateDir: string) => Promise<T>): Promise<T & { stateDir: string }> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    const server = await start(stateDir);
    return {
      ...server,
      stateDir,
      async stop() {
        await server.stop();
        rmSync(stateDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(stateDir, { recursive: true, force: true });
    throw error;
  }
}
