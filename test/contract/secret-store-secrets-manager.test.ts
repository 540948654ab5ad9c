import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createSecretsManagerSecretStore } from '../../activities/adapters/aws';
import { startMotoServer, type MotoServer } from '../../stack/moto-server';
import { startInTempDir } from '../support/temp-server';
import { secretStoreContract } from './secret-store-cases';

// The SecretStore contract on Secrets Manager, answered by moto (a name prefix per case). Then the
// staging labels themselves: AWSPENDING first, then AWSCURRENT moved, AWSPREVIOUS kept by Secrets Manager.
let moto: MotoServer & { stateDir: string };
let client: SecretsManagerClient;
let n = 0;
before(async () => {
  moto = await startInTempDir('dr-moto-', (stateDir) => startMotoServer({ stateDir }));
  client = new SecretsManagerClient(moto.clientConfig());
});
after(() => moto?.stop());

secretStoreContract('Secrets Manager (moto)', async () => {
  const namePrefix = `contract-${++n}/`;
  return {
    store: createSecretsManagerSecretStore({ client, namePrefix, region: 'us-east-1' }),
    seed: async (name, value) => { await client.send(new CreateSecretCommand({ Name: `${namePrefix}${name}`, SecretString: value })); },
  };
});

test('Secrets Manager (moto): a write stages the new version as AWSPENDING, then moves AWSCURRENT to it; no version is left pending', async () => {
  await client.send(new CreateSecretCommand({ Name: 'mita/production/db-app', SecretString: 'old-password' }));
  const staged: string[][] = [];
  client.middlewareStack.add((next, context) => async (args) => {
    const input = args.input as { VersionStages?: string[]; VersionStage?: string; MoveToVersionId?: string; RemoveFromVersionId?: string };
    if (context.commandName === 'PutSecretValueCommand') staged.push(['put', ...(input.VersionStages ?? [])]);
    if (context.commandName === 'UpdateSecretVersionStageCommand') staged.push(['stage', input.VersionStage!, input.MoveToVersionId ? 'move' : 'remove']);
    if (context.commandName === 'RotateSecretCommand') staged.push(['rotate']);
    return next(args);
  }, { step: 'initialize', name: 'recordStages' });
  try {
    const store = createSecretsManagerSecretStore({ client, namePrefix: 'mita/production/' });
    const written = await store.write('db-app', 'new-password');
    assert.deepEqual(staged, [['put', 'AWSPENDING'], ['stage', 'AWSCURRENT', 'move'], ['stage', 'AWSPENDING', 'remove']], 'never RotateSecret (it needs a Lambda)');
    const stages = (await client.send(new DescribeSecretCommand({ SecretId: 'mita/production/db-app' }))).VersionIdsToStages ?? {};
    assert.deepEqual(stages[written.version], ['AWSCURRENT']);
    assert.deepEqual(Object.values(stages).flat().sort(), ['AWSCURRENT', 'AWSPREVIOUS']);
    assert.equal((await client.send(new GetSecretValueCommand({ SecretId: 'mita/production/db-app', VersionStage: 'AWSPREVIOUS' }))).SecretString, 'old-password');
  } finally {
    client.middlewareStack.remove('recordStages');
  }
});

test('Secrets Manager (moto): a retry after a crash between staging and the move finishes with the pending version, writing no third one', async () => {
  await client.send(new CreateSecretCommand({ Name: 'crash/db-app', SecretString: 'old' }));
  const pending = await client.send(new PutSecretValueCommand({ SecretId: 'crash/db-app', SecretString: 'new', VersionStages: ['AWSPENDING'] }));
  const store = createSecretsManagerSecretStore({ client, namePrefix: 'crash/' });
  const written = await store.write('db-app', 'new');
  assert.equal(written.version, pending.VersionId);
  assert.equal((await store.read('db-app')).value, 'new');
  assert.equal(Object.keys((await client.send(new DescribeSecretCommand({ SecretId: 'crash/db-app' }))).VersionIdsToStages ?? {}).length, 2);
});
