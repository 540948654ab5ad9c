import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, type BigIntStats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { ManifestEntry } from '../../../ports/file-backup';

/**
 * A directory tree as the manifest sees it: every directory, regular file and symlink under a root,
 * with type, size, mode, owner, mtime; the checks of a restored tree against a manifest.
 */

export interface ScannedTree {
  /** Sorted by path; files without sha256 yet (the archiver hashes them as it reads them). */
  entries: ManifestEntry[];
  skipped: Array<{ path: string; reason: string }>;
}

/** uid -> name and gid -> name from /etc/passwd and /etc/group (what `ls -l` shows), read once. */
function idNames(file: string): Map<number, string> {
  const names = new Map<number, string>();
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && id && /^\d+$/.test(id) && !names.has(Number(id))) names.set(Number(id), name);
    }
  } catch {
    // no such file: ids stay numeric
  }
  return names;
}

let cachedNames: { users: Map<number, string>; groups: Map<number, string> } | undefined;
export function ownerNames() {
  cachedNames ??= { users: idNames('/etc/passwd'), groups: idNames('/etc/group') };
  return cachedNames;
}

/** The numeric owner to give a restored entry: its name's id on this machine when the name exists here, else the recorded id (GNU tar's rule as root). */
export function ownerOnThisMachine(entry: Pick<ManifestEntry, 'uid' | 'gid' | 'user' | 'group'>): { uid: number; gid: number } {
  const { users, groups } = ownerNames();
  const byName = (names: Map<number, string>, name: string | undefined) => (name ? [...names].find(([, n]) => n === name)?.[0] : undefined);
  return { uid: byName(users, entry.user) ?? entry.uid, gid: byName(groups, entry.group) ?? entry.gid };
}

const toArchivePath = (rel: string) => rel.split(path.sep).join('/');

/**
 * Mode, owner and mtime of a stat taken with { bigint: true }: Node's Date of an mtime is rounded to
 * the millisecond, so a restore that set it would move files' times by up to half a millisecond.
 */
export function ownerAndTimes(s: BigIntStats, users = ownerNames().users, groups = ownerNames().groups): Pick<ManifestEntry, 'mode' | 'uid' | 'gid' | 'user' | 'group' | 'mtime' | 'mtimeNs'> {
  const uid = Number(s.uid);
  const gid = Number(s.gid);
  return { mode: Number(s.mode) & 0o7777, uid, gid, user: users.get(uid), group: groups.get(gid), mtime: new Date(Number(s.mtimeNs / 1_000_000n)).toISOString(), mtimeNs: s.mtimeNs.toString() };
}

/** The time to give utimes for an entry: its exact mtime when the manifest has it. */
export const mtimeOf = (entry: Pick<ManifestEntry, 'mtime' | 'mtimeNs'>): number | Date => (entry.mtimeNs ? Number(BigInt(entry.mtimeNs)) / 1e9 : new Date(entry.mtime));

/** Walks a directory (not following symlinks), sorted so the archive and manifest are reproducible. */
export async function scanTree(root: string, signal?: AbortSignal): Promise<ScannedTree> {
  const entries: ManifestEntry[] = [];
  const skipped: ScannedTree['skipped'] = [];
  const { users, groups } = ownerNames();
  const rootStat = await lstat(root).catch(() => undefined);
  if (!rootStat?.isDirectory()) throw new Error(`${root} is not a directory`);
  async function walk(dir: string, rel: string): Promise<void> {
    signal?.throwIfAborted();
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const full = path.join(dir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      const s = await lstat(full, { bigint: true });
      const common = { path: toArchivePath(relPath), ...ownerAndTimes(s, users, groups) };
      if (s.isDirectory()) {
        entries.push({ ...common, type: 'directory', size: 0 });
        await walk(full, relPath);
      } else if (s.isFile()) {
        entries.push({ ...common, type: 'file', size: Number(s.size) });
      } else if (s.isSymbolicLink()) {
        entries.push({ ...common, type: 'symlink', size: 0, linkTarget: await readlink(full) });
      } else {
        skipped.push({ path: toArchivePath(relPath), reason: s.isSocket() ? 'a socket' : s.isFIFO() ? 'a FIFO' : 'a device file' });
      }
    }
  }
  await walk(root, '');
  return { entries, skipped };
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface TreeProblem {
  path: string;
  problem: string;
}

/**
 * Compares a directory with a manifest, reading every file again: type, size, sha256, permission
 * bits, symlink target, and the owner when `checkOwner`. Extra and missing paths are problems too.
 */
export async function compareTreeWithManifest(root: string, manifest: readonly ManifestEntry[], options: { checkOwner: boolean; signal?: AbortSignal; onFile?: () => void }): Promise<TreeProblem[]> {
  const problems: TreeProblem[] = [];
  const expected = new Map(manifest.map((entry) => [entry.path, entry]));
  const seen = new Set<string>();
  const { entries } = await scanTree(root, options.signal);
  for (const actual of entries) {
    options.signal?.throwIfAborted();
    seen.add(actual.path);
    const want = expected.get(actual.path);
    if (!want) { problems.push({ path: actual.path, problem: `is not in the manifest (an extra ${actual.type})` }); continue; }
    if (want.type !== actual.type) { problems.push({ path: actual.path, problem: `is a ${actual.type}, the manifest says ${want.type}` }); continue; }
    if (want.mode !== actual.mode && actual.type !== 'symlink') problems.push({ path: actual.path, problem: `has mode ${actual.mode.toString(8)}, the manifest says ${want.mode.toString(8)}` });
    if (options.checkOwner) {
      const owner = ownerOnThisMachine(want);
      if (owner.uid !== actual.uid || owner.gid !== actual.gid) problems.push({ path: actual.path, problem: `is owned by ${actual.uid}:${actual.gid}, the manifest says ${owner.uid}:${owner.gid}` });
    }
    if (actual.type === 'symlink' && want.linkTarget !== actual.linkTarget) problems.push({ path: actual.path, problem: `points at "${actual.linkTarget}", the manifest says "${want.linkTarget}"` });
    if (actual.type === 'file') {
      options.onFile?.();
      if (want.size !== actual.size) { problems.push({ path: actual.path, problem: `is ${actual.size} bytes, the manifest says ${want.size}` }); continue; }
      const sha256 = await sha256OfFile(path.join(root, ...actual.path.split('/')));
      if (sha256 !== want.sha256) problems.push({ path: actual.path, problem: `has sha256 ${sha256}, the manifest says ${want.sha256}` });
    }
  }
  for (const entry of manifest) if (!seen.has(entry.path)) problems.push({ path: entry.path, problem: `is in the manifest but missing (a ${entry.type})` });
  return problems;
}

/** One line per problem, at most `limit`, naming each path. */
export function describeProblems(problems: readonly TreeProblem[], limit = 10): string {
  const lines = problems.slice(0, limit).map((p) => `"${p.path}" ${p.problem}`);
  if (problems.length > limit) lines.push(`and ${problems.length - limit} more`);
  return lines.join('; ');
}
