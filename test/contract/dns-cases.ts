import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Dns } from '../../activities/ports/dns';

// The Dns port's contract: a mapping file and Route 53 pass the same cases. Names are under `zone` (a
// Route 53 hosted zone holds only its own names); targets are on port 5432, the one port a DNS record
// can mean for the application.

export function dnsContract(label: string, fresh: () => Promise<{ dns: Dns; zone: string }>): void {
  test(`${label}: a name without a record has no target`, async () => {
    const { dns, zone } = await fresh();
    assert.equal(await dns.currentTarget(`nothing.${zone}`), undefined);
  });

  test(`${label}: a switch creates the record, and the name reads back as the target with its TTL`, async () => {
    const { dns, zone } = await fresh();
    const name = `db.${zone}`;
    const switched = await dns.switchTarget(name, 'mita-production-primary.abc.us-east-1.rds.amazonaws.com:5432', { ttlSeconds: 30 });
    assert.equal(switched.changed, true);
    assert.equal(switched.previousTarget, null);
    assert.equal(switched.target, 'mita-production-primary.abc.us-east-1.rds.amazonaws.com:5432');
    const record = await dns.currentTarget(name);
    assert.equal(record?.target, 'mita-production-primary.abc.us-east-1.rds.amazonaws.com:5432');
    assert.equal(record?.ttlSeconds, 30);
  });

  test(`${label}: switching to where the name already points changes nothing (a retried step)`, async () => {
    const { dns, zone } = await fresh();
    const name = `again.${zone}`;
    const first = await dns.switchTarget(name, 'a.example.internal:5432', { ttlSeconds: 30 });
    const again = await dns.switchTarget(name, 'a.example.internal:5432', { ttlSeconds: 30 });
    assert.equal(again.changed, false);
    assert.equal(again.target, 'a.example.internal:5432');
    assert.equal(again.switchedAt, first.switchedAt, 'when the record last changed');
    assert.deepEqual((await dns.history(name)).map((h) => h.target), ['a.example.internal:5432'], 'one switch recorded');
  });

  test(`${label}: a switch to another target says where it pointed and when every resolver sees it (the longer TTL)`, async () => {
    const { dns, zone } = await fresh();
    const name = `failover.${zone}`;
    await dns.switchTarget(name, 'primary.us-east-1.internal:5432', { ttlSeconds: 300 });
    const moved = await dns.switchTarget(name, 'replica.us-west-2.internal:5432', { ttlSeconds: 30 });
    assert.equal(moved.changed, true);
    assert.equal(moved.previousTarget, 'primary.us-east-1.internal:5432');
    assert.equal(Date.parse(moved.effectiveBy) - Date.parse(moved.switchedAt), 300_000, 'resolvers may hold the old answer for the old TTL');
    assert.deepEqual((await dns.history(name)).map((h) => [h.previousTarget, h.target]), [[null, 'primary.us-east-1.internal:5432'], ['primary.us-east-1.internal:5432', 'replica.us-west-2.internal:5432']], 'oldest first');
    assert.ok((await dns.history()).some((h) => h.name === name && h.target === 'replica.us-west-2.internal:5432'), 'history of every name includes it');
  });

  test(`${label}: names are case-insensitive`, async () => {
    const { dns, zone } = await fresh();
    await dns.switchTarget(`Mixed.${zone.toUpperCase()}`, 'a.example.internal:5432', { ttlSeconds: 30 });
    assert.equal((await dns.currentTarget(`mixed.${zone}`))?.target, 'a.example.internal:5432');
  });

  test(`${label}: a malformed name or target is refused, naming the field, and nothing changes`, async () => {
    const { dns, zone } = await fresh();
    await assert.rejects(dns.switchTarget('not a name', 'a.example.internal:5432'), /name: must be a DNS name/);
    await assert.rejects(dns.switchTarget(`bad.${zone}`, 'no-port-here'), /target: must be host:port/);
    assert.equal(await dns.currentTarget(`bad.${zone}`), undefined);
  });
}
