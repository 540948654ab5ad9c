import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { createSecretsDirectory } from '../../activities/adapters/local/secrets-directory';
import { secretStoreContract } from './secret-store-cases';

// The SecretStore contract on the local adapter: the worker's secrets directory ("files").
const root = mkdtempSync(path.join(os.tmpdir(), 'dr-contract-secrets-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

secretStoreContract('secrets directory (files)', async () => {
  const dir = path.join(root, String(++n));
  mkdirSync(dir, { recursive: true });
  return { store: createSecretsDirectory(dir, {}), seed: async (name, value) => writeFileSync(path.join(dir, name), `${value}\n`) };
});
