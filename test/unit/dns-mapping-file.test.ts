import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyDnsSwitch, emptyDnsMapping, formatDnsMapping, parseDnsMapping, resolveInMapping } from '../../activities/adapters/local/dns-mapping-file';

const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T00:01:00Z');

test('a switch records the previous target, the TTL-bounded effective time, and the history', () => {
  const first = applyDnsSwitch(emptyDnsMapping(), 'DB.mita.internal', '127.0.0.1:5433', 60, t0);
  assert.deepEqual(first.change, { name: 'db.mita.internal', previousTarget: null, target: '127.0.0.1:5433', ttlSeconds: 60, switchedAt: t0.toISOString(), effectiveBy: '2026-01-01T00:01:00.000Z', changed: true });
  const second = applyDnsSwitch(first.mapping, 'db.mita.internal', '127.0.0.1:6000', 5, t1);
  assert.equal(second.change.previousTarget, '127.0.0.1:5433');
  // Clients may still hold the old answer for the old TTL (60 s), not the new one (5 s).
  assert.equal(second.change.effectiveBy, '2026-01-01T00:02:00.000Z');
  assert.equal(second.mapping.history.length, 2);
  assert.deepEqual(resolveInMapping(second.mapping, 'DB.MITA.INTERNAL'), { host: '127.0.0.1', port: 6000, ttlSeconds: 5 });
  assert.equal(resolveInMapping(second.mapping, 'other.internal'), undefined);
});

test('switching to the current target changes nothing (a retried step)', () => {
  const { mapping } = applyDnsSwitch(emptyDnsMapping(), 'db.mita.internal', '127.0.0.1:5433', 30, t0);
  const again = applyDnsSwitch(mapping, 'db.mita.internal', '127.0.0.1:5433', 30, t1);
  assert.equal(again.change.changed, false);
  assert.equal(again.mapping, mapping);
  assert.equal(again.change.switchedAt, t0.toISOString());
});

test('bad names, targets and TTLs are refused naming the field', () => {
  assert.throws(() => applyDnsSwitch(emptyDnsMapping(), 'not a name', '127.0.0.1:5433', 30, t0), /^Error: name: must be a DNS name/);
  assert.throws(() => applyDnsSwitch(emptyDnsMapping(), 'db.internal', '127.0.0.1', 30, t0), /target: must be host:port/);
  assert.throws(() => applyDnsSwitch(emptyDnsMapping(), 'db.internal', '127.0.0.1:70000', 30, t0), /target: port must be 1-65535/);
  assert.throws(() => applyDnsSwitch(emptyDnsMapping(), 'db.internal', '127.0.0.1:5432', -1, t0), /ttlSeconds:/);
});

test('the file round-trips and a damaged file is an error naming it', () => {
  const { mapping } = applyDnsSwitch(emptyDnsMapping(), 'db.mita.internal', '127.0.0.1:5433', 30, t0);
  assert.deepEqual(parseDnsMapping(formatDnsMapping(mapping)), mapping);
  assert.throws(() => parseDnsMapping('{', 'dns.json'), /^Error: dns\.json is not valid JSON/);
  assert.throws(() => parseDnsMapping('{"records":{"db.internal":{"target":"nope","ttlSeconds":1,"updatedAt":"x"}},"history":[]}', 'dns.json'), /dns\.json is invalid: records\.db\.internal\.target: must be host:port/);
});
