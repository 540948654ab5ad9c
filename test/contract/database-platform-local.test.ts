import { after, before } from 'node:test';
import { startLocalPlatformStack, type LocalPlatformStack } from '../support/local-platform-stack';
import { databasePlatformContract } from './database-platform-cases';

// The DatabasePlatform contract on the local platform: real PostgreSQL 15 clusters and pgBackRest.
let stack: LocalPlatformStack;
before(async () => {
  stack = await startLocalPlatformStack({ seed: { users: 10, transactionsPerUser: 5 } });
  await stack.platform.takeBackup({ sourceInstanceId: 'production', type: 'full' });
});
after(() => stack?.stop());

databasePlatformContract('local platform (real PostgreSQL 15 + pgBackRest)', () => ({ platform: stack.platform, primary: 'production' }));
