import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { encodeHeader, endOfArchive, padding, readTar, type TarHeader } from '../../activities/adapters/local/file-backup/tar';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dr-tar-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function archive(entries: Array<{ header: TarHeader; data?: Buffer }>): Buffer {
  const parts: Buffer[] = [];
  for (const { header, data } of entries) {
    parts.push(encodeHeader(header));
    if (data) parts.push(data, padding(data.length));
  }
  parts.push(endOfArchive());
  return Buffer.concat(parts);
}

async function* chunks(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function read(data: Buffer, chunkSize = 700): Promise<Array<{ header: TarHeader; data: Buffer }>> {
  const out: Array<{ header: TarHeader; data: Buffer }> = [];
  for await (const event of readTar(chunks(data, chunkSize))) {
    if (event.type === 'entry') out.push({ header: event.header, data: Buffer.alloc(0) });
    if (event.type === 'data') out.at(-1)!.data = Buffer.concat([out.at(-1)!.data, event.chunk]);
  }
  return out;
}

const base = { mode: 0o644, uid: 1000, gid: 1000, uname: 'app', gname: 'app', mtime: 1_790_000_000 };
const longDir = 'd'.repeat(120);
const entries: Array<{ header: TarHeader; data?: Buffer }> = [
  { header: { ...base, path: 'docs', type: 'directory', size: 0, mode: 0o750 } },
  { header: { ...base, path: 'docs/a.txt', type: 'file', size: 5 }, data: Buffer.from('hello') },
  { header: { ...base, path: `docs/${longDir}/file-in-a-long-directory.conf`, type: 'file', size: 3 }, data: Buffer.from('x=1') },
  { header: { ...base, path: `docs/${'n'.repeat(150)}.txt`, type: 'file', size: 0 }, data: Buffer.alloc(0) },
  { header: { ...base, path: 'docs/relevé-bancaire-é.pdf', type: 'file', size: 1024, uid: 3_000_000, uname: 'a-user-name-longer-than-thirty-two-chars' }, data: Buffer.alloc(1024, 7) },
  { header: { ...base, path: 'docs/latest', type: 'symlink', size: 0, linkTarget: `${longDir}/file-in-a-long-directory.conf`, mode: 0o777 } },
];

test('what it writes reads back exactly: long and non-ASCII paths, long link targets, big ids, data split across chunks', async () => {
  const data = archive(entries);
  for (const chunkSize of [1, 511, 512, 700, 1 << 16]) {
    const back = await read(data, chunkSize);
    assert.equal(back.length, entries.length);
    back.forEach((entry, i) => {
      const want = entries[i]!;
      assert.deepEqual({ ...entry.header, uname: entry.header.uname, gname: entry.header.gname }, { ...want.header, linkTarget: want.header.linkTarget });
      assert.deepEqual(entry.data, want.data ?? Buffer.alloc(0));
    });
  }
});

test("GNU tar lists and extracts what it writes, byte for byte (the format is standard, not our own)", () => {
  const file = path.join(tmp, 'ours.tar');
  writeFileSync(file, archive(entries));
  const list = spawnSync('tar', ['-tvf', file], { encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /docs\/relevé-bancaire-é\.pdf/);
  assert.match(list.stdout, new RegExp(`docs/${longDir}/file-in-a-long-directory\\.conf`));
  const out = path.join(tmp, 'gnu-out');
  mkdirSync(out);
  const extract = spawnSync('tar', ['-xf', file, '-C', out], { encoding: 'utf8' });
  assert.equal(extract.status, 0, extract.stderr);
  assert.equal(readFileSync(path.join(out, 'docs', longDir, 'file-in-a-long-directory.conf'), 'utf8'), 'x=1');
  assert.deepEqual(readFileSync(path.join(out, 'docs', 'relevé-bancaire-é.pdf')), Buffer.alloc(1024, 7));
  assert.equal(readFileSync(path.join(out, 'docs', 'latest'), 'utf8'), 'x=1', 'the symlink resolves');
});

test('it reads what GNU tar writes in pax format', async () => {
  const src = path.join(tmp, 'gnu-src');
  mkdirSync(path.join(src, 'cfg', longDir), { recursive: true });
  writeFileSync(path.join(src, 'cfg', longDir, 'app.conf'), 'port=5432\n');
  symlinkSync('app.conf', path.join(src, 'cfg', longDir, 'current.conf'));
  const file = path.join(tmp, 'gnu.tar');
  const made = spawnSync('tar', ['--format=pax', '-cf', file, '-C', src, 'cfg'], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const back = await read(readFileSync(file));
  const conf = back.find((e) => e.header.path === `cfg/${longDir}/app.conf`);
  assert.equal(conf?.data.toString(), 'port=5432\n');
  assert.equal(back.find((e) => e.header.path === `cfg/${longDir}/current.conf`)?.header.linkTarget, 'app.conf');
  assert.equal(back.find((e) => e.header.path === 'cfg')?.header.type, 'directory');
});

test('a truncated archive is an error wherever it is cut, never a shorter listing', async () => {
  const data = archive(entries);
  for (const cut of [data.length - 1, data.length - 512, data.length - 1024, 512 + 3, 100, 0]) {
    await assert.rejects(read(data.subarray(0, cut)), /truncated/, `cut at ${cut}`);
  }
});

test('a flipped byte in a header fails its checksum', async () => {
  const data = Buffer.from(archive(entries));
  data[520] = data[520]! ^ 0x01; // inside the second entry's header name field
  await assert.rejects(read(data), /checksum/);
});

test('paths that climb out or are absolute are refused, when writing and when reading', async () => {
  for (const bad of ['../etc/passwd', '/etc/passwd', 'a/../../b', 'a//b', '']) {
    assert.throws(() => encodeHeader({ ...base, path: bad, type: 'file', size: 0 }), /not a clean relative path/, bad);
  }
  // A hostile archive built by hand: a valid header whose name is "../evil".
  const header = Buffer.from(encodeHeader({ ...base, path: 'xx/evil', type: 'file', size: 0 }));
  header.write('../evil', 0, 100, 'utf8');
  header.fill(0, 7, 100);
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  await assert.rejects(read(Buffer.concat([header, endOfArchive()])), /not a clean relative path/);
});
