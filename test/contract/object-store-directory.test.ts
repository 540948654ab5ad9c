import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { createDirectoryObjectStore } from '../../activities/adapters/local/directory-object-store';
import { createVersionedDirectoryObjectStore } from '../../activities/adapters/local/versioned-directory-object-store';
import { objectStoreContract, versionedObjectStoreContract } from './object-store-cases';

// The ObjectStore contract on the local adapters: a directory, and a directory that keeps versions.
const root = mkdtempSync(path.join(os.tmpdir(), 'dr-contract-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => path.join(root, String(++n));

objectStoreContract('directory object store', async () => createDirectoryObjectStore(freshDir()));
objectStoreContract('versioned directory object store', async () => createVersionedDirectoryObjectStore(freshDir()));
versionedObjectStoreContract('versioned directory object store', async () => createVersionedDirectoryObjectStore(freshDir()));
