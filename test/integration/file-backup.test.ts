import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { seal, unseal, type KeyFunction } from '../../activities/adapters/local/file-backup/envelope';
import { createLocalFileBackup, type LocalFileBackupOptions } from '../../activities/adapters/local/file-backup/local-file-backup';
import { createVersionedDirectoryObjectStore } from '../../activities/adapters/local/versioned-directory-object-store';
import { BackupIntegrityError, type FileBackup, type FileBackupSet } from '../../activities/ports/file-backup';

// The file backup on real files: a tree with modes, owners, symlinks and long names archived,
// sealed, stored as object versions, restored through staging and moved into place.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dr-file-backup-'));
const storeDir = path.join(tmp, 'store');
const keys: Record<string, Buffer> = { 'files-key-1': randomBytes(32) };
const keyFor: KeyFunction = async (keyId) => {
  const key = keys[keyId];
  if (!key) throw new Error(`no key ${keyId}`);
  return key;
};
let now = Date.parse('2026-11-23T10:00:00.000Z');
const store = createVersionedDirectoryObjectStore(storeDir, { now: () => new Date(now) });
const dirs = {
  documents: path.join(tmp, 'app', 'documents'),
  configs: path.join(tmp, 'app', 'config'),
  code: path.join(tmp, 'app', 'backend'),
};
const drill = (kind: string) => path.join(tmp, 'drill', kind);
const asRoot = process.getuid?.() === 0;

function backupWith(archives: Partial<LocalFileBackupOptions['archives']> = {}): FileBackup {
  return createLocalFileBackup({
    store,
    keyFor,
    keyId: 'files-key-1',
    stateDir: path.join(tmp, 'state'),
    archives: {
      documents: { sourceDir: dirs.documents, drillDir: drill('documents') },
      configs: {
        sourceDir: dirs.configs,
        drillDir: drill('configs'),
        // The seed's "verify configurations", as a parser: every .json must parse.
        verify: { argv: [process.execPath, '-e', "for (const f of require('fs').readdirSync('.')) if (f.endsWith('.json')) JSON.parse(require('fs').readFileSync(f, 'utf8'))"], timeoutMs: 30_000 },
      },
      code: {
        sourceDir: dirs.code,
        drillDir: drill('code'),
        // The seed's compile check, without writing bytecode into the staged copy.
        verify: { argv: [process.execPath, '-e', "for (const f of require('fs').readdirSync('.')) if (f.endsWith('.js')) new (require('vm').Script)(require('fs').readFileSync(f, 'utf8'), { filename: f })"] },
      },
      ...archives,
    },
  });
}
const files = backupWith();

const longName = `${'quarterly-statement-'.repeat(8)}relevé.pdf`;

function makeDocuments(): void {
  mkdirSync(path.join(dirs.documents, 'statements', '2026'), { recursive: true });
  writeFileSync(path.join(dirs.documents, 'statements', '2026', 'nov.pdf'), randomBytes(200_000));
  writeFileSync(path.join(dirs.documents, 'statements', longName), randomBytes(3000));
  writeFileSync(path.join(dirs.documents, 'empty.txt'), '');
  writeFileSync(path.join(dirs.documents, 'private.key'), 'secret\n');
  chmodSync(path.join(dirs.documents, 'private.key'), 0o600);
  writeFileSync(path.join(dirs.documents, 'tool.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(path.join(dirs.documents, 'tool.sh'), 0o4755);
  symlinkSync('statements/2026/nov.pdf', path.join(dirs.documents, 'latest.pdf'));
  chmodSync(path.join(dirs.documents, 'statements'), 0o750);
  chmodSync(dirs.documents, 0o751);
  if (asRoot) {
    chownSync(path.join(dirs.documents, 'statements', '2026', 'nov.pdf'), 1234, 4321); // ids with no names here
    chownSync(path.join(dirs.documents, 'tool.sh'), 65534, 65534); // nobody
    lchownSync(path.join(dirs.documents, 'latest.pdf'), 1234, 4321);
    chmodSync(path.join(dirs.documents, 'tool.sh'), 0o4755); // chown clears setuid
  }
}

/** Everything about a tree that a restore must reproduce, read independently of the code under test. */
function snapshot(root: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const key = rel ? `${rel}/${name}` : name;
      const s = lstatSync(full);
      // Times to the microsecond: utimes takes seconds as a double, exact to about a quarter of one.
      const common = { mode: (s.mode & 0o7777).toString(8), uid: s.uid, gid: s.gid, mtimeUs: Math.round(s.mtimeMs * 1000) };
      if (s.isSymbolicLink()) out[key] = { ...common, mode: undefined, link: readlinkSync(full) };
      else if (s.isDirectory()) { out[key] = { ...common, type: 'dir' }; walk(full, key); }
      else out[key] = { ...common, content: readFileSync(full).toString('base64') };
    }
  };
  walk(root, '');
  out['.'] = { mode: (lstatSync(root).mode & 0o7777).toString(8) };
  return out;
}

/** Equal trees: everything exact, except times within a microsecond (utimes takes seconds as a double). */
function assertSameTree(actual: Record<string, unknown>, expected: Record<string, unknown>, message?: string): void {
  const times = (tree: Record<string, unknown>) => Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, (v as { mtimeUs?: number }).mtimeUs]));
  const without = (tree: Record<string, unknown>) => Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, { ...(v as object), mtimeUs: undefined }]));
  assert.deepEqual(without(actual), without(expected), message);
  const [a, e] = [times(actual), times(expected)];
  for (const key of Object.keys(e)) assert.ok(Math.abs((a[key] ?? NaN) - (e[key] ?? NaN)) <= 1 || (a[key] === undefined && e[key] === undefined), `${message ?? 'mtime'}: ${key} has mtime ${a[key]} µs, expected ${e[key]} µs`);
}

const siblings = (dir: string) => readdirSync(path.dirname(dir)).filter((n) => n.startsWith(path.basename(dir))).sort();
const versionFile = (key: string, versionId: string) => path.join(storeDir, `${key}.versions`, versionId);

let first: FileBackupSet;
let original: Record<string, unknown>;

before(async () => {
  makeDocuments();
  original = snapshot(dirs.documents);
  first = (await files.takeBackup({ archiveKind: 'documents', backupId: 'docs-1' })).backup;
});

after(() => rmSync(tmp, { recursive: true, force: true }));

test('a restore over the lost source reproduces every file byte for byte, with its mode, owner, mtime and symlinks', async () => {
  assert.equal(first.fileCount, 5);
  assert.equal(first.symlinkCount, 1);
  rmSync(path.join(dirs.documents, 'statements'), { recursive: true }); // the incident
  writeFileSync(path.join(dirs.documents, 'ransom-note.txt'), 'pay');
  const staged = await files.stageRestore({ restoreId: 'r-full', archiveKind: 'documents', choice: { kind: 'latest' } });
  assert.equal(staged.backup.backupId, 'docs-1');
  assert.equal(staged.verifiedEntries, 8);
  assert.equal(staged.ownershipApplied, asRoot);
  assert.ok(existsSync(path.join(dirs.documents, 'ransom-note.txt')), 'staging leaves the target as it is');
  const moved = await files.moveIntoPlace({ restoreId: 'r-full' });
  assertSameTree(snapshot(dirs.documents), original);
  assert.match(moved.previousDir!, /documents\.previous-\d{8}T\d{6}Z$/);
  assert.ok(existsSync(path.join(moved.previousDir!, 'ransom-note.txt')), 'what was there is kept until the restore is confirmed');
  assert.equal((await files.moveIntoPlace({ restoreId: 'r-full' })).reused, true, 'a retry of the move returns the move');
  const confirmed = await files.confirmRestore({ restoreId: 'r-full' });
  assert.deepEqual(confirmed.removed, [moved.previousDir]);
  assert.deepEqual(siblings(dirs.documents), ['documents'], 'no staging or previous copy is left');
});

test('a drill restore goes to the drill directory and never touches the source; revert removes it', async () => {
  writeFileSync(path.join(dirs.documents, 'written-after-the-backup.txt'), 'new');
  const staged = await files.stageRestore({ restoreId: 'r-drill', archiveKind: 'documents', choice: { kind: 'backup', backupId: 'docs-1' }, target: 'drill' });
  assert.equal(staged.targetDir, drill('documents'));
  await files.moveIntoPlace({ restoreId: 'r-drill' });
  assertSameTree(snapshot(drill('documents')), original);
  assert.ok(existsSync(path.join(dirs.documents, 'written-after-the-backup.txt')));
  const reverted = await files.revertRestore({ restoreId: 'r-drill' });
  assert.equal(reverted.outcome, 'reverted');
  assert.equal(existsSync(drill('documents')), false, 'nothing was there before, so nothing is after the revert');
  assert.equal((await files.revertRestore({ restoreId: 'r-drill' })).outcome, 'nothing-to-do');
  rmSync(path.join(dirs.documents, 'written-after-the-backup.txt'));
});

test('a retry of a staged restore with the same id returns it; another request under that id is refused', async () => {
  const a = await files.stageRestore({ restoreId: 'r-retry', archiveKind: 'documents', choice: { kind: 'latest' }, target: 'drill' });
  const b = await files.stageRestore({ restoreId: 'r-retry', archiveKind: 'documents', choice: { kind: 'latest' }, target: 'drill' });
  assert.equal(a.reused, false);
  assert.equal(b.reused, true);
  assert.equal(b.stagingDir, a.stagingDir);
  await assert.rejects(files.stageRestore({ restoreId: 'r-retry', archiveKind: 'documents', choice: { kind: 'backup', backupId: 'docs-1' }, target: 'drill' }), /already exists for another request/);
  await files.revertRestore({ restoreId: 'r-retry' });
  assert.equal(existsSync(a.stagingDir), false);
});

test('a revert after the move puts the previous copy back', async () => {
  writeFileSync(path.join(dirs.documents, 'note.txt'), 'kept by the revert');
  const before = snapshot(dirs.documents);
  await files.stageRestore({ restoreId: 'r-revert', archiveKind: 'documents', choice: { kind: 'latest' } });
  await files.moveIntoPlace({ restoreId: 'r-revert' });
  assert.equal(existsSync(path.join(dirs.documents, 'note.txt')), false);
  await files.revertRestore({ restoreId: 'r-revert' });
  assertSameTree(snapshot(dirs.documents), before);
  assert.deepEqual(siblings(dirs.documents), ['documents']);
  await assert.rejects(files.moveIntoPlace({ restoreId: 'r-revert' }), /was reverted/);
  rmSync(path.join(dirs.documents, 'note.txt'));
});

/** Runs a restore that must be refused, and checks that the target and its siblings are as they were. */
async function assertRefusedUntouched(restoreId: string, expected: RegExp, choice = { kind: 'latest' as const }): Promise<Error> {
  const before = snapshot(dirs.documents);
  const error = await files.stageRestore({ restoreId, archiveKind: 'documents', choice }).then(() => undefined, (e: Error) => e);
  assert.ok(error, 'the restore was refused');
  assert.match(error.message, expected);
  await assert.rejects(files.moveIntoPlace({ restoreId }), /does not exist: stage it first/, 'nothing is there to be moved');
  assertSameTree(snapshot(dirs.documents), before, 'the target is untouched');
  assert.deepEqual(siblings(dirs.documents), ['documents'], 'no staging directory is left');
  return error;
}

async function withStoredObject(file: string, change: (data: Buffer) => Buffer, run: () => Promise<void>): Promise<void> {
  const saved = readFileSync(file);
  writeFileSync(file, change(Buffer.from(saved)));
  try { await run(); } finally { writeFileSync(file, saved); }
}

test('a flipped byte in the stored archive is refused naming the archive object, before anything is moved', async () => {
  const file = versionFile(first.archive.key, first.archive.versionId);
  for (const offset of [100, 5000, -20]) {
    await withStoredObject(file, (data) => { const i = offset < 0 ? data.length + offset : offset; data[i] = data[i]! ^ 0x10; return data; }, async () => {
      const error = await assertRefusedUntouched(`r-flip-${offset < 0 ? 'tail' : offset}`, new RegExp(`archive object "file-backups/documents/archive\\.tar\\.gz\\.sealed" \\(version ${first.archive.versionId}\\) of backup "docs-1" is refused: .*altered or truncated`));
      assert.ok(error instanceof BackupIntegrityError);
      assert.equal(error.name, 'BackupIntegrityError');
    });
  }
});

test('a truncated archive is refused naming the archive object', async () => {
  const file = versionFile(first.archive.key, first.archive.versionId);
  await withStoredObject(file, (data) => data.subarray(0, data.length - 1000), async () => {
    await assertRefusedUntouched('r-truncated', /archive object "file-backups\/documents\/archive\.tar\.gz\.sealed" .* is refused: it is \d+ bytes/);
  });
});

/** Rewrites the sealed manifest of the first backup as someone holding the key could (or a buggy writer would). */
async function withManifest(change: (manifest: { entries: Array<{ path: string }> }) => void, run: () => Promise<void>): Promise<void> {
  const file = versionFile(first.manifest.key, first.manifest.versionId);
  const { header, plaintext } = await unseal(readFileSync(file), keyFor);
  const manifest = JSON.parse(plaintext.toString('utf8'));
  change(manifest);
  await withStoredObject(file, () => Buffer.alloc(0), async () => {
    writeFileSync(file, await seal(Buffer.from(JSON.stringify(manifest)), header, keyFor));
    await run();
  });
}

test('a file missing from the manifest fails naming the file, before anything is moved', async () => {
  await withManifest((m) => { m.entries = m.entries.filter((e) => e.path !== 'private.key'); }, async () => {
    const error = await assertRefusedUntouched('r-entry-removed', /"private\.key" is in the archive but not in the manifest/);
    assert.equal((error as BackupIntegrityError).subject, 'private.key');
  });
});

test('a manifest entry the archive does not have fails naming the file', async () => {
  await withManifest((m) => { m.entries.push({ ...m.entries.find((e) => e.path === 'empty.txt')!, path: 'statements/missing.pdf' }); }, async () => {
    await assertRefusedUntouched('r-entry-added', /"statements\/missing\.pdf" is in the manifest but not in the archive/);
  });
});

test('a manifest that does not authenticate is refused naming it', async () => {
  const file = versionFile(first.manifest.key, first.manifest.versionId);
  await withStoredObject(file, (data) => { data[data.length - 30] = data[data.length - 30]! ^ 1; return data; }, async () => {
    await assertRefusedUntouched('r-manifest-flip', new RegExp(`no documents backup has been taken yet \\(1 manifest version\\(s\\) were refused: manifest object "file-backups/documents/manifest\\.json\\.sealed" \\(version ${first.manifest.versionId}\\) is refused: authentication failed`));
  });
});

test('a failing verification command blocks the move: the staged copy is removed, the target untouched', async () => {
  mkdirSync(dirs.configs, { recursive: true });
  writeFileSync(path.join(dirs.configs, 'app.json'), '{"database": "mingus"}');
  writeFileSync(path.join(dirs.configs, 'broken.json'), '{"port": ');
  await files.takeBackup({ archiveKind: 'configs', backupId: 'configs-broken' });
  rmSync(path.join(dirs.configs, 'broken.json'));
  const error = await files.stageRestore({ restoreId: 'r-configs', archiveKind: 'configs', choice: { kind: 'latest' } }).then(() => undefined, (e: Error) => e);
  assert.match(error?.message ?? '', /the configs verification of backup "configs-broken" failed: verification command .* failed \(exit 1\); its output ends with:[\s\S]*SyntaxError[\s\S]*nothing was moved into place/);
  assert.deepEqual(readdirSync(dirs.configs), ['app.json']);
  assert.deepEqual(siblings(dirs.configs), ['config']);
});

test('a verification command that writes into the staged copy is refused naming what it wrote', async () => {
  const writing = backupWith({ code: { sourceDir: dirs.code, verify: { argv: ['sh', '-c', 'mkdir __pycache__ && touch __pycache__/app.cpython-311.pyc'] } } });
  mkdirSync(dirs.code, { recursive: true });
  writeFileSync(path.join(dirs.code, 'app.js'), 'module.exports = 1;\n');
  await writing.takeBackup({ archiveKind: 'code', backupId: 'code-1' });
  await assert.rejects(writing.stageRestore({ restoreId: 'r-code-writes', archiveKind: 'code', choice: { kind: 'latest' } }), /after the verification command .*: "__pycache__" is not in the manifest \(an extra directory\).*nothing was moved into place/);
  // The real check passes and writes nothing.
  const staged = await files.stageRestore({ restoreId: 'r-code', archiveKind: 'code', choice: { kind: 'latest' } });
  assert.equal(staged.verificationCommand?.exitCode, 0);
  await files.revertRestore({ restoreId: 'r-code' });
});

test('a chosen object version and the version current at a time restore that backup, not the newest', async () => {
  now = Date.parse('2026-11-24T10:00:00.000Z');
  writeFileSync(path.join(dirs.documents, 'empty.txt'), 'no longer empty');
  const second = (await files.takeBackup({ archiveKind: 'documents', backupId: 'docs-2' })).backup;
  now = Date.parse('2026-11-25T10:00:00.000Z');
  await files.takeBackup({ archiveKind: 'documents', backupId: 'docs-3' });
  assert.deepEqual((await files.listBackups('documents')).map((b) => b.backupId), ['docs-1', 'docs-2', 'docs-3']);
  assert.equal((await files.takeBackup({ archiveKind: 'documents', backupId: 'docs-2' })).reused, true, 'a retry of a finished backup returns it');

  const byVersion = await files.stageRestore({ restoreId: 'r-version', archiveKind: 'documents', choice: { kind: 'version', versionId: first.archive.versionId }, target: 'drill' });
  assert.equal(byVersion.backup.backupId, 'docs-1');
  assert.equal(readFileSync(path.join(byVersion.stagingDir, 'empty.txt'), 'utf8'), '');
  await files.revertRestore({ restoreId: 'r-version' });

  const atTime = await files.stageRestore({ restoreId: 'r-at-time', archiveKind: 'documents', choice: { kind: 'currentAt', time: '2026-11-24T23:59:00Z' }, target: 'drill' });
  assert.equal(atTime.backup.backupId, 'docs-2');
  assert.equal(atTime.backup.archive.versionId, second.archive.versionId);
  assert.equal(readFileSync(path.join(atTime.stagingDir, 'empty.txt'), 'utf8'), 'no longer empty');
  await files.revertRestore({ restoreId: 'r-at-time' });

  await assert.rejects(files.stageRestore({ restoreId: 'r-too-early', archiveKind: 'documents', choice: { kind: 'currentAt', time: '2026-11-01T00:00:00Z' } }), /no documents backup was current at 2026-11-01T00:00:00Z/);
  await assert.rejects(files.stageRestore({ restoreId: 'r-bad-time', archiveKind: 'documents', choice: { kind: 'currentAt', time: 'yesterday' } }), /choice\.time "yesterday" is not an ISO 8601 time/);
});

test('an archive version whose backup never finished (no manifest) is not restored', async () => {
  now = Date.parse('2026-11-26T10:00:00.000Z');
  const orphan = await store.putVersion('file-backups/documents/archive.tar.gz.sealed', readFileSync(versionFile(first.archive.key, first.archive.versionId)));
  await assert.rejects(files.stageRestore({ restoreId: 'r-orphan', archiveKind: 'documents', choice: { kind: 'version', versionId: orphan.versionId } }), /its backup never finished/);
  const atTime = await files.stageRestore({ restoreId: 'r-orphan-time', archiveKind: 'documents', choice: { kind: 'currentAt', time: '2026-11-26T11:00:00Z' }, target: 'drill' });
  assert.equal(atTime.backup.backupId, 'docs-3', 'the newest finished backup up to that time');
  await files.revertRestore({ restoreId: 'r-orphan-time' });
});

test('bad requests name the field and change nothing', async () => {
  await assert.rejects(files.takeBackup({ archiveKind: 'photos', backupId: 'p-1' }), /archive kind "photos" is not configured \(configured: documents, configs, code\)/);
  await assert.rejects(files.takeBackup({ archiveKind: 'documents', backupId: 'Bad Id' }), /backupId "Bad Id" is not valid/);
  await assert.rejects(files.stageRestore({ restoreId: '../x', archiveKind: 'documents', choice: { kind: 'latest' } }), /restoreId "..\/x" is not valid/);
  await assert.rejects(files.stageRestore({ restoreId: 'r-nope', archiveKind: 'documents', choice: { kind: 'backup', backupId: 'docs-9' } }), /no documents backup has backupId "docs-9" \(have: docs-1, docs-2, docs-3\)/);
  assert.throws(() => backupWith({ code: { sourceDir: 'relative/dir' } }), /archives\.code\.sourceDir "relative\/dir" must be an absolute path/);
  await assert.rejects(files.confirmRestore({ restoreId: 'r-never' }), /does not exist/);
});
