import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { createMappingFileDns } from '../../activities/adapters/local/mapping-file-dns';
import { dnsContract } from './dns-cases';

// The Dns contract on the local adapter: the mapping file the demo service resolves through.
const root = mkdtempSync(path.join(os.tmpdir(), 'dr-contract-dns-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

dnsContract('DNS mapping file', async () => ({ dns: createMappingFileDns({ mappingFile: path.join(root, `dns-${++n}.json`), defaultTtlSeconds: 30 }), zone: 'mita.internal' }));
