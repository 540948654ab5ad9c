import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { createRoute53Dns } from '../../activities/adapters/aws';
import { startMotoServer, type MotoServer } from '../../stack/moto-server';
import { startInTempDir } from '../support/temp-server';
import { dnsContract } from './dns-cases';

// The Dns contract on Route 53, answered by moto (a hosted zone per case; moto reports every change
// INSYNC at once and resolves nothing). Then what only Route 53 does: alias records, the port rule.
let moto: MotoServer & { stateDir: string };
let route53: Route53Client;
let n = 0;
before(async () => {
  moto = await startInTempDir('dr-moto-', (stateDir) => startMotoServer({ stateDir }));
  route53 = new Route53Client(moto.clientConfig());
});
after(() => moto?.stop());

async function zone(name: string): Promise<string> {
  const created = await route53.send(new CreateHostedZoneCommand({ Name: name, CallerReference: `dr-contract-${++n}-${Date.now()}` }));
  return created.HostedZone!.Id!.replace('/hostedzone/', '');
}

const waits = { pollIntervalMs: 50, timeoutMs: 10_000 };
dnsContract('Route 53 (moto)', async () => ({ dns: createRoute53Dns({ route53, hostedZoneId: await zone('mita.internal'), port: 5432, record: { type: 'CNAME' }, defaultTtlSeconds: 30, waits }), zone: 'mita.internal' }));

test('Route 53 (moto): the switch is a CNAME UPSERT to the host, with the switch log beside it; the record reads back as host:port', async () => {
  const zoneId = await zone('mita.internal');
  const dns = createRoute53Dns({ route53, hostedZoneId: zoneId, port: 5432, record: { type: 'CNAME' }, defaultTtlSeconds: 60, waits });
  await dns.switchTarget('db.mita.internal', 'mita-production-primary.c1.us-east-1.rds.amazonaws.com:5432');
  const sets = (await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))).ResourceRecordSets ?? [];
  const cname = sets.find((s) => s.Type === 'CNAME' && s.Name === 'db.mita.internal.');
  assert.deepEqual(cname?.ResourceRecords, [{ Value: 'mita-production-primary.c1.us-east-1.rds.amazonaws.com' }]);
  assert.equal(cname?.TTL, 60);
  const log = sets.find((s) => s.Type === 'TXT' && s.Name === '_dr-runbooks.db.mita.internal.');
  assert.match(log?.ResourceRecords?.[0]?.Value ?? '', /^"\d{4}-\d\d-\d\dT[^ ]+ 60 - mita-production-primary\.c1\.us-east-1\.rds\.amazonaws\.com:5432"$/);
});

test('Route 53 (moto): an alias record points the name at the DR load balancer, with its effective TTL', async () => {
  const zoneId = await zone('mita.internal');
  const dns = createRoute53Dns({ route53, hostedZoneId: zoneId, port: 5432, record: { type: 'alias', recordType: 'A', hostedZoneId: 'Z1H1FL5HABSF5', evaluateTargetHealth: true, effectiveTtlSeconds: 60 }, defaultTtlSeconds: 30, waits });
  const switched = await dns.switchTarget('db.mita.internal', 'mita-dr-db-nlb-0123.elb.us-west-2.amazonaws.com:5432');
  assert.equal(switched.ttlSeconds, 60);
  const sets = (await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))).ResourceRecordSets ?? [];
  const alias = sets.find((s) => s.Type === 'A' && s.Name === 'db.mita.internal.');
  assert.equal(alias?.AliasTarget?.DNSName?.replace(/\.$/, ''), 'mita-dr-db-nlb-0123.elb.us-west-2.amazonaws.com');
  assert.equal(alias?.AliasTarget?.HostedZoneId, 'Z1H1FL5HABSF5');
  assert.equal((await dns.currentTarget('db.mita.internal'))?.target, 'mita-dr-db-nlb-0123.elb.us-west-2.amazonaws.com:5432');
});

test('Route 53 (moto): a target on another port than the application connects to is refused (a record names a host only)', async () => {
  const dns = createRoute53Dns({ route53, hostedZoneId: await zone('mita.internal'), port: 5432, record: { type: 'CNAME' }, defaultTtlSeconds: 30, waits });
  await assert.rejects(dns.switchTarget('db.mita.internal', 'replica.internal:5433'), /target: replica\.internal:5433 is on port 5433, but a DNS record names a host only and the application connects to port 5432/);
});

test('Route 53 (moto): a hosted zone that does not exist fails naming the call, not retried', async () => {
  const dns = createRoute53Dns({ route53, hostedZoneId: 'ZNOSUCHZONE', port: 5432, record: { type: 'CNAME' }, defaultTtlSeconds: 30, waits });
  await assert.rejects(dns.currentTarget('db.mita.internal'), (e: Error & { type?: string }) => e.type === 'PlatformNotFound' && /route53:ListResourceRecordSets answered NoSuchHostedZone/.test(e.message));
});
