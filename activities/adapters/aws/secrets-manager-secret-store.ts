import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type GetSecretValueCommandOutput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { assertSecretName, type SecretRef, type SecretStore, type SecretValue, type SecretVersion } from '../../ports/secret-store';
import { isAwsError, sendMapped } from './aws-errors';

export interface SecretsManagerStoreOptions {
  client: SecretsManagerClient;
  /** Prepended to every secret name (e.g. `mita/production/`): the secret `db-password` is `mita/production/db-password`. */
  namePrefix?: string;
  /** A secret the store creates is encrypted with this KMS key (the account's aws/secretsmanager key when omitted). */
  kmsKeyId?: string;
  /** Tags on a secret the store creates. */
  tags?: Record<string, string>;
  /** For messages: where the secrets are. */
  region?: string;
}

/**
 * The SecretStore on AWS Secrets Manager, with its own staging labels: a new version is put as
 * AWSPENDING, then AWSCURRENT is moved to it (Secrets Manager moves AWSPREVIOUS to the version it leaves),
 * the rotation steps a rotation Lambda would take, done by the worker (RotateSecret needs a Lambda). Every
 * read names its stage or version: a read without one may see the old value just after a move.
 */
export function createSecretsManagerSecretStore(options: SecretsManagerStoreOptions): SecretStore {
  const { client } = options;
  const idOf = (name: string) => {
    assertSecretName(name);
    return `${options.namePrefix ?? ''}${name}`;
  };
  const where = (name: string) => `secret "${idOf(name)}" in Secrets Manager${options.region ? ` (${options.region})` : ''}`;
  const send = <C extends object, T>(what: string, command: C, run: (c: C) => Promise<T>, expected: string[] = []) => sendMapped('secretsmanager', what, command, run, expected);

  async function get(name: string, by: { VersionStage: string } | { VersionId: string }): Promise<GetSecretValueCommandOutput | undefined> {
    try {
      return await send(`read ${where(name)}`, new GetSecretValueCommand({ SecretId: idOf(name), ...by }), (c) => client.send(c), ['ResourceNotFoundException']);
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException')) return undefined;
      throw error;
    }
  }

  const valueOf = (name: string, out: GetSecretValueCommandOutput): SecretValue => {
    if (out.SecretString === undefined) throw new Error(`${where(name)} holds binary data, not a string`);
    return { name, version: out.VersionId!, ...(out.CreatedDate ? { createdAt: out.CreatedDate.toISOString() } : {}), value: out.SecretString };
  };

  async function moveCurrent(name: string, to: string, from: string | undefined): Promise<void> {
    if (to === from) return;
    await send(`make version ${to} of ${where(name)} current`, new UpdateSecretVersionStageCommand({ SecretId: idOf(name), VersionStage: 'AWSCURRENT', MoveToVersionId: to, ...(from ? { RemoveFromVersionId: from } : {}) }), (c) => client.send(c));
  }

  return {
    async read(ref: string | SecretRef) {
      const { name, version } = typeof ref === 'string' ? { name: ref, version: undefined } : ref;
      const out = await get(name, version ? { VersionId: version } : { VersionStage: 'AWSCURRENT' });
      if (!out) throw new Error(version ? `${where(name)} has no version ${version}` : `${where(name)} does not exist: create it (aws secretsmanager create-secret --name ${idOf(name)}) or check dns/secrets config (namePrefix, region)`);
      return valueOf(name, out);
    },

    async write(name, value): Promise<SecretVersion> {
      const current = await get(name, { VersionStage: 'AWSCURRENT' });
      if (!current) {
        try {
          const created = await send(`create ${where(name)}`, new CreateSecretCommand({
            Name: idOf(name),
            SecretString: value,
            ClientRequestToken: randomUUID(),
            ...(options.kmsKeyId ? { KmsKeyId: options.kmsKeyId } : {}),
            ...(options.tags ? { Tags: Object.entries(options.tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
          }), (c) => client.send(c), ['ResourceExistsException']);
          return { name, version: created.VersionId! };
        } catch (error) {
          if (!isAwsError(error, 'ResourceExistsException')) throw error;
          // A secret with no AWSCURRENT value yet (created empty): its first version is put below.
        }
      }
      if (current?.SecretString === value) return { name, version: current.VersionId!, ...(current.CreatedDate ? { createdAt: current.CreatedDate.toISOString() } : {}) };
      // A retry after a crash between the two steps finds its own pending version and finishes the move.
      const pending = await get(name, { VersionStage: 'AWSPENDING' });
      let versionId = pending?.SecretString === value ? pending.VersionId! : undefined;
      if (!versionId) {
        const put = await send(`write a new version of ${where(name)}`, new PutSecretValueCommand({ SecretId: idOf(name), SecretString: value, VersionStages: ['AWSPENDING'], ClientRequestToken: randomUUID() }), (c) => client.send(c));
        versionId = put.VersionId!;
      }
      await moveCurrent(name, versionId, current?.VersionId);
      await send(`clear AWSPENDING of ${where(name)}`, new UpdateSecretVersionStageCommand({ SecretId: idOf(name), VersionStage: 'AWSPENDING', RemoveFromVersionId: versionId }), (c) => client.send(c));
      return { name, version: versionId };
    },

    async readPrevious(name) {
      const out = await get(name, { VersionStage: 'AWSPREVIOUS' });
      return out ? valueOf(name, out) : undefined;
    },

    async makeCurrent(name, version) {
      const described = await send(`describe ${where(name)}`, new DescribeSecretCommand({ SecretId: idOf(name) }), (c) => client.send(c));
      const stages = described.VersionIdsToStages ?? {};
      if (!(version in stages)) throw new Error(`${where(name)} has no version ${version} (have: ${Object.keys(stages).join(', ') || 'none'})`);
      const current = Object.entries(stages).find(([, labels]) => labels.includes('AWSCURRENT'))?.[0];
      await moveCurrent(name, version, current);
      return { name, version };
    },
  };
}
