/**
 * A small POSIX tar (ustar, with pax extended headers for what ustar cannot hold: long or non-ASCII
 * paths and link targets, sizes of 8 GiB and more, large ids and long names). Regular files,
 * directories and symlinks only: what documents, configuration and code consist of.
 *
 * The reader is strict: a bad header checksum, an unknown entry type, a path that is absolute or climbs
 * out with '..', or an archive that ends before its two zero blocks are errors, never skipped.
 */

export const blockSize = 512;

export type TarEntryType = 'file' | 'directory' | 'symlink';

export interface TarHeader {
  /** Relative, '/'-separated, without a trailing '/' (also for directories). */
  path: string;
  type: TarEntryType;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  /** Seconds since the epoch (whole). */
  mtime: number;
  linkTarget?: string;
}

export class TarFormatError extends Error {
  override readonly name = 'TarFormatError';
}

const typeFlags: Record<TarEntryType, string> = { file: '0', directory: '5', symlink: '2' };
const ustarLimits = { name: 100, prefix: 155, linkname: 100, uname: 32, gname: 32 };
const maxOctal = (digits: number) => 8 ** digits - 1;

/** A relative path inside an archive: no leading '/', no '.' or '..' parts, no NUL. */
export function checkedArchivePath(p: string): string {
  const parts = p.split('/');
  if (!p || p.startsWith('/') || p.includes('\0') || parts.some((part) => part === '' || part === '.' || part === '..')) {
    throw new TarFormatError(`archive path "${p}" is not a clean relative path (absolute, empty part, '.' or '..')`);
  }
  return p;
}

const isAscii = (s: string) => /^[\x20-\x7e]*$/.test(s);

/** Splits a path into ustar's prefix and name fields, if it fits. */
function splitUstarPath(p: string): { prefix: string; name: string } | undefined {
  if (!isAscii(p)) return undefined;
  if (p.length <= ustarLimits.name) return { prefix: '', name: p };
  for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
    const prefix = p.slice(0, i);
    const name = p.slice(i + 1);
    if (prefix.length <= ustarLimits.prefix && name.length <= ustarLimits.name && name.length > 0) return { prefix, name };
  }
  return undefined;
}

function writeString(block: Buffer, offset: number, length: number, value: string): void {
  block.write(value, offset, length, 'utf8');
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  // length - 1 digits, then NUL.
  block.write(value.toString(8).padStart(length - 1, '0') + '\0', offset, length, 'ascii');
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body);
  return Buffer.from(`${length}${body}`, 'utf8');
}

function headerBlock(fields: { name: string; prefix: string; mode: number; uid: number; gid: number; size: number; mtime: number; typeflag: string; linkname: string; uname: string; gname: string }): Buffer {
  const block = Buffer.alloc(blockSize);
  writeString(block, 0, 100, fields.name);
  writeOctal(block, 100, 8, fields.mode & 0o7777);
  writeOctal(block, 108, 8, fields.uid);
  writeOctal(block, 116, 8, fields.gid);
  writeOctal(block, 124, 12, fields.size);
  writeOctal(block, 136, 12, fields.mtime);
  block.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  writeString(block, 156, 1, fields.typeflag);
  writeString(block, 157, 100, fields.linkname);
  writeString(block, 257, 6, 'ustar\0');
  writeString(block, 263, 2, '00');
  writeString(block, 265, 32, fields.uname);
  writeString(block, 297, 32, fields.gname);
  writeString(block, 345, 155, fields.prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return block;
}

/** The header block(s) of an entry: a pax header first when ustar's fields cannot hold it. */
export function encodeHeader(header: TarHeader): Buffer {
  const p = header.type === 'directory' ? `${checkedArchivePath(header.path)}/` : checkedArchivePath(header.path);
  const pax: Buffer[] = [];
  const split = splitUstarPath(p);
  if (!split) pax.push(paxRecord('path', p));
  const link = header.linkTarget ?? '';
  if (link && (!isAscii(link) || link.length > ustarLimits.linkname)) pax.push(paxRecord('linkpath', link));
  const size = header.type === 'file' ? header.size : 0;
  if (size > maxOctal(11)) pax.push(paxRecord('size', String(size)));
  if (header.uid > maxOctal(7)) pax.push(paxRecord('uid', String(header.uid)));
  if (header.gid > maxOctal(7)) pax.push(paxRecord('gid', String(header.gid)));
  const uname = header.uname ?? '';
  const gname = header.gname ?? '';
  if (!isAscii(uname) || uname.length > ustarLimits.uname) pax.push(paxRecord('uname', uname));
  if (!isAscii(gname) || gname.length > ustarLimits.gname) pax.push(paxRecord('gname', gname));

  const ustar = headerBlock({
    name: split?.name ?? p.slice(-ustarLimits.name).replace(/[^\x20-\x7e]/g, '_'),
    prefix: split?.prefix ?? '',
    mode: header.mode,
    uid: Math.min(header.uid, maxOctal(7)),
    gid: Math.min(header.gid, maxOctal(7)),
    size: Math.min(size, maxOctal(11)),
    mtime: Math.max(0, Math.min(Math.floor(header.mtime), maxOctal(11))),
    typeflag: typeFlags[header.type],
    linkname: link && isAscii(link) && link.length <= ustarLimits.linkname ? link : '',
    uname: isAscii(uname) && uname.length <= ustarLimits.uname ? uname : '',
    gname: isAscii(gname) && gname.length <= ustarLimits.gname ? gname : '',
  });
  if (pax.length === 0) return ustar;
  const paxBody = Buffer.concat(pax);
  const paxHeader = headerBlock({ name: 'PaxHeader', prefix: '', mode: 0o644, uid: 0, gid: 0, size: paxBody.length, mtime: Math.max(0, Math.min(Math.floor(header.mtime), maxOctal(11))), typeflag: 'x', linkname: '', uname: '', gname: '' });
  return Buffer.concat([paxHeader, paxBody, padding(paxBody.length), ustar]);
}

/** Zero bytes that bring `size` up to a whole block. */
export function padding(size: number): Buffer {
  return Buffer.alloc((blockSize - (size % blockSize)) % blockSize);
}

/** Two zero blocks: the end of an archive. */
export const endOfArchive = (): Buffer => Buffer.alloc(2 * blockSize);

// ---- reading ----

export type TarEvent =
  | { type: 'entry'; header: TarHeader }
  | { type: 'data'; chunk: Buffer }
  | { type: 'entry-end' };

function readString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

function readOctal(block: Buffer, offset: number, length: number, what: string): number {
  const text = readString(block, offset, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`tar header field ${what} is not an octal number ("${text}")`);
  return parseInt(text, 8);
}

function checksumOk(block: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < blockSize; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return readOctal(block, 148, 8, 'chksum') === sum;
}

function parsePax(body: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    const length = Number(body.subarray(offset, space).toString('ascii'));
    if (space === -1 || !Number.isInteger(length) || length <= 0 || offset + length > body.length) throw new TarFormatError('pax extended header is malformed');
    const record = body.subarray(space + 1, offset + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq === -1 || body[offset + length - 1] !== 0x0a) throw new TarFormatError('pax extended header record is malformed');
    records[record.slice(0, eq)] = record.slice(eq + 1);
    offset += length;
  }
  return records;
}

const paxNumber = (value: string | undefined, what: string): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new TarFormatError(`pax ${what} "${value}" is not a whole number`);
  return Number(value);
};

/**
 * Parses a tar stream into entry, data and entry-end events. Fails on anything it does not fully
 * understand, and when the stream ends before the end-of-archive blocks (a truncated archive).
 */
export async function* readTar(source: AsyncIterable<Buffer>): AsyncGenerator<TarEvent> {
  let buffered: Buffer[] = [];
  let bufferedBytes = 0;
  const iterator = source[Symbol.asyncIterator]();
  let ended = false;

  /** Returns exactly n bytes, or fewer only when the stream ended. */
  async function take(n: number): Promise<Buffer> {
    while (bufferedBytes < n && !ended) {
      const next = await iterator.next();
      if (next.done) ended = true;
      else { buffered.push(next.value); bufferedBytes += next.value.length; }
    }
    const all = buffered.length === 1 ? buffered[0]! : Buffer.concat(buffered);
    const out = all.subarray(0, Math.min(n, all.length));
    const rest = all.subarray(out.length);
    buffered = rest.length ? [rest] : [];
    bufferedBytes = rest.length;
    return out;
  }

  async function takeExactly(n: number, what: string): Promise<Buffer> {
    const out = await take(n);
    if (out.length < n) throw new TarFormatError(`archive is truncated: it ends inside ${what}`);
    return out;
  }

  /** Streams n bytes of entry data as chunks. */
  async function* stream(n: number, what: string): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (bufferedBytes === 0) {
        if (ended) throw new TarFormatError(`archive is truncated: it ends inside ${what}`);
        const next = await iterator.next();
        if (next.done) { ended = true; continue; }
        buffered.push(next.value);
        bufferedBytes += next.value.length;
      }
      const chunk = await take(Math.min(left, bufferedBytes));
      left -= chunk.length;
      yield chunk;
    }
  }

  let pax: Record<string, string> = {};
  for (;;) {
    const block = await take(blockSize);
    if (block.length === 0) throw new TarFormatError('archive is truncated: it ends without the end-of-archive blocks');
    if (block.length < blockSize) throw new TarFormatError('archive is truncated: it ends inside a header');
    if (block.every((byte) => byte === 0)) {
      const second = await take(blockSize);
      if (second.length < blockSize || !second.every((byte) => byte === 0)) throw new TarFormatError('archive is truncated or corrupt: a zero block is not followed by a second one');
      return;
    }
    if (!checksumOk(block)) throw new TarFormatError('tar header checksum does not match (the archive is corrupt)');
    if (readString(block, 257, 6) !== 'ustar') throw new TarFormatError('not a ustar archive (magic field)');
    const typeflag = readString(block, 156, 1) || '0';
    const size = paxNumber(pax.size, 'size') ?? readOctal(block, 124, 12, 'size');
    if (typeflag === 'x') {
      pax = parsePax(await takeExactly(size, 'a pax header'));
      await takeExactly(padding(size).length, 'padding');
      continue;
    }
    const type = (Object.entries(typeFlags).find(([, flag]) => flag === typeflag)?.[0] ?? (typeflag === '\0' ? 'file' : undefined)) as TarEntryType | undefined;
    if (!type) throw new TarFormatError(`tar entry type "${typeflag}" is not supported (only files, directories and symlinks)`);
    if (type !== 'file' && size > 0) throw new TarFormatError(`tar ${type} entry carries ${size} bytes of data (the archive is corrupt)`);
    const prefix = readString(block, 345, 155);
    const rawPath = pax.path ?? (prefix ? `${prefix}/${readString(block, 0, 100)}` : readString(block, 0, 100));
    const header: TarHeader = {
      path: checkedArchivePath(rawPath.replace(/\/$/, '')),
      type,
      size: type === 'file' ? size : 0,
      mode: readOctal(block, 100, 8, 'mode'),
      uid: paxNumber(pax.uid, 'uid') ?? readOctal(block, 108, 8, 'uid'),
      gid: paxNumber(pax.gid, 'gid') ?? readOctal(block, 116, 8, 'gid'),
      uname: pax.uname ?? (readString(block, 265, 32) || undefined),
      gname: pax.gname ?? (readString(block, 297, 32) || undefined),
      mtime: readOctal(block, 136, 12, 'mtime'),
      linkTarget: type === 'symlink' ? pax.linkpath ?? readString(block, 157, 100) : undefined,
    };
    pax = {};
    yield { type: 'entry', header };
    if (size > 0) {
      for await (const chunk of stream(size, `the data of "${header.path}"`)) yield { type: 'data', chunk };
      await takeExactly(padding(size).length, `the padding of "${header.path}"`);
    }
    yield { type: 'entry-end' };
  }
}
