import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sleep } from '../../../../lib/child-process';

/**
 * Redis 7's append-only directory: a manifest ("file appendonly.aof.3.base.rdb seq 3 type b", one line
 * per file: b the base, i incremental, h history awaiting deletion) and the files it names.
 */
export interface AofFile {
  name: string;
  type: 'b' | 'i';
  data: Buffer;
}

const plainName = /^[\w.-]+$/;

export function parseAofManifest(text: string): Array<{ name: string; type: 'b' | 'h' | 'i'; line: string }> {
  return text.split('\n').filter((line) => line.trim()).map((line) => {
    const fields = line.trim().split(/\s+/);
    const get = (key: string) => fields[fields.indexOf(key) + 1];
    const name = get('file');
    const type = get('type');
    if (!name || !plainName.test(name) || (type !== 'b' && type !== 'h' && type !== 'i')) {
      throw new Error(`AOF manifest line "${line}" is not one this version reads (a quoted file name, or an unknown type)`);
    }
    return { name, type, line: line.trim() };
  });
}

/**
 * Copies the AOF directory of a running server: the manifest, then each base and incremental file it
 * lists, then the manifest again; if a rewrite changed the manifest meanwhile the copy starts over.
 * History files are left out (Redis is deleting them) and so are their lines in the copied manifest.
 * The last incremental file may end in a half-written command: Redis loads it with
 * aof-load-truncated (its default), which is what it does after a crash too.
 */
export async function copyAofDirectory(aofDir: string, manifestName: string, signal?: AbortSignal): Promise<{ manifest: Buffer; manifestName: string; files: AofFile[] }> {
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    const manifestText = await readFile(path.join(aofDir, manifestName), 'utf8');
    const entries = parseAofManifest(manifestText).filter((e) => e.type !== 'h');
    try {
      const files: AofFile[] = [];
      for (const entry of entries) files.push({ name: entry.name, type: entry.type as 'b' | 'i', data: await readFile(path.join(aofDir, entry.name)) });
      if ((await readFile(path.join(aofDir, manifestName), 'utf8')) === manifestText) {
        return { manifest: Buffer.from(entries.map((e) => e.line).join('\n') + '\n'), manifestName, files };
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // a rewrite removed a file we were reading
    }
    if (attempt >= 10) throw new Error(`the AOF directory ${aofDir} kept changing (rewrites) while it was copied; try again when the server is less busy`);
    await sleep(200 * attempt);
  }
}
