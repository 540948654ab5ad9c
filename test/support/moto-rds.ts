import { CreateDBInstanceCommand, CreateDBInstanceReadReplicaCommand, RDSClient } from '@aws-sdk/client-rds';
import { createRdsDatabasePlatform, type RdsCredentials, type RdsEndpointResolver, type RdsPlatformOptions } from '../../activities/adapters/aws';
import type { MotoServer } from '../../stack/moto-server';

export const primaryIdentifier = 'mita-production-primary';
export const replicaIdentifier = 'mita-production-dr-replica';
export const accountId = '123456789012';

/** An RDS client on moto per region, with every command it sends recorded by name (middleware). */
export function recordingRdsClients(moto: MotoServer): { rds(region: string): RDSClient; calls: Array<{ region: string; command: string }> } {
  const clients = new Map<string, RDSClient>();
  const calls: Array<{ region: string; command: string }> = [];
  return {
    calls,
    rds(region) {
      let client = clients.get(region);
      if (!client) {
        client = new RDSClient(moto.clientConfig(region));
        client.middlewareStack.add((next, context) => (args) => {
          calls.push({ region, command: String(context.commandName) });
          return next(args);
        }, { step: 'initialize', name: 'recordCalls' });
        clients.set(region, client);
      }
      return client;
    },
  };
}

/** The seeds' RDS on moto: the Multi-AZ primary in us-east-1 (and its cross-region read replica in us-west-2). */
export async function createSeedRdsInstances(moto: MotoServer, options: { replica?: boolean } = {}): Promise<{ primaryArn: string }> {
  const east = new RDSClient(moto.clientConfig('us-east-1'));
  const created = await east.send(new CreateDBInstanceCommand({
    DBInstanceIdentifier: primaryIdentifier, Engine: 'postgres', EngineVersion: '15.8', DBInstanceClass: 'db.r6g.xlarge', AllocatedStorage: 100,
    MasterUsername: 'postgres', MasterUserPassword: 'not-the-real-password', DBName: 'mita', MultiAZ: true, BackupRetentionPeriod: 7,
  }));
  const primaryArn = created.DBInstance!.DBInstanceArn!;
  if (options.replica) {
    const west = new RDSClient(moto.clientConfig('us-west-2'));
    await west.send(new CreateDBInstanceReadReplicaCommand({ DBInstanceIdentifier: replicaIdentifier, SourceDBInstanceIdentifier: primaryArn, DBInstanceClass: 'db.r6g.xlarge' }));
  }
  return { primaryArn };
}

/** The RDS platform over moto as the seeds' config enrols it, with quick polls for tests. */
export function seedRdsPlatform(rds: (region: string) => RDSClient, options: { credentials: () => Promise<RdsCredentials>; resolveEndpoint?: RdsEndpointResolver; replica?: boolean; finalSnapshot?: 'take' | 'skip'; timeoutMs?: number } & Partial<Pick<RdsPlatformOptions, 'clock'>>) {
  return createRdsDatabasePlatform({
    rds,
    instances: {
      production: { identifier: primaryIdentifier, region: 'us-east-1' },
      ...(options.replica ? { 'dr-replica': { identifier: `arn:aws:rds:us-west-2:${accountId}:db:${replicaIdentifier}` } } : {}),
    },
    credentials: options.credentials,
    build: { instanceClass: 'db.r6g.xlarge', multiAz: false, regions: { 'us-east-1': { subnetGroup: undefined } }, tags: { team: 'platform' } },
    deletion: { finalSnapshot: options.finalSnapshot ?? 'skip', protectedInstances: [] },
    promotedBackupRetentionDays: 7,
    waits: { pollIntervalMs: 100, timeoutMs: options.timeoutMs ?? 60_000 },
    connectTimeoutMs: 2000,
    ...(options.resolveEndpoint ? { resolveEndpoint: options.resolveEndpoint } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
}
