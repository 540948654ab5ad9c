import { after, before, beforeEach } from 'node:test';
import type { DatabasePlatform } from '../../activities/ports/database-platform';
import { startMotoServer, type MotoServer } from '../../stack/moto-server';
import { startLocalPlatformStack, type LocalPlatformStack } from '../support/local-platform-stack';
import { createSeedRdsInstances, recordingRdsClients, seedRdsPlatform } from '../support/moto-rds';
import { localTwinResolver } from '../support/rds-twin';
import { startInTempDir } from '../support/temp-server';
import { databasePlatformContract } from './database-platform-cases';

// The DatabasePlatform contract on RDS: every RDS call answered by moto; the data behind an instance (its
// role, connections, what a restore holds) by a real local PostgreSQL built by pgBackRest for the same
// operation, since moto runs no database.
let moto: MotoServer & { stateDir: string };
let local: LocalPlatformStack;
let platform: DatabasePlatform;

before(async () => {
  moto = await startInTempDir('dr-moto-', (stateDir) => startMotoServer({ stateDir }));
  local = await startLocalPlatformStack({ seed: { users: 10, transactionsPerUser: 5 } });
  await local.platform.takeBackup({ sourceInstanceId: 'production', type: 'full' });
  const credentials = async () => ({ user: 'postgres', password: local.production.password, database: local.databaseName });
  platform = seedRdsPlatform(recordingRdsClients(moto).rds, { credentials, resolveEndpoint: localTwinResolver(local.platform) });
});
beforeEach(async () => {
  await moto.reset();
  await createSeedRdsInstances(moto);
});
after(async () => {
  await local?.stop();
  await moto?.stop();
});

databasePlatformContract('RDS (moto; data on a real local PostgreSQL)', () => ({ platform, primary: 'production' }));
