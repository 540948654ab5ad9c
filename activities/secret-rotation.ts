import { ApplicationFailure } from '@temporalio/common';
import type { Client } from 'pg';
import { FailureType } from '../contracts/failure-types';
import { databaseUrl, endpointOfUrl, formatEndpoint } from '../lib/postgres-url';
import { newDatabasePassword, scramSha256Verifier } from '../lib/scram-verifier';
import { resolveDatabaseTarget, type DatabaseTargetResolver } from './app-runtime';
import { withDatabaseClient } from './database-client';
import type { DatabaseConnection } from './database-connections';
import type { AppRuntime, PointAppResult } from './ports/app-runtime';
import type { SecretRef, SecretStore } from './ports/secret-store';

// The seeds' cutover gives the application new credentials on the database it moves to, and the security
// engineer's access check proves the old ones no longer work. PostgreSQL keeps one password per role, so
// the rotation is the single-user kind (as AWS's single-user rotation): the new password replaces the old
// one on that instance at once. The application is not on that instance yet (it moves there next), so no
// running replica loses its connection; what is left of the old credential there (sessions it opened) is
// ended once the application answers healthy with the new one. The old credential on the instance the
// application leaves is not touched: it is what a rollback goes back to.

export interface SecretRotationWiring {
  runtime: AppRuntime;
  databases: DatabaseTargetResolver;
  secrets: SecretStore;
  /** The secret holding the application's database connection (config `app.connectionSecret`). */
  connectionSecret: string;
  /** The PostgreSQL role the application signs in as (config `app.databaseRole`). */
  applicationRole?: string;
}

/** A rotation as history keeps it: names and version ids, never a password. */
export interface CredentialRotation {
  /** The database (config name or instance id) the application moves to, where the password was changed. */
  database: string;
  role: string;
  /** host:port/dbname of that database. */
  endpoint: string;
  /** The new version of the connection secret. */
  secret: { name: string; version: string };
  /** The version the application held before: what a rollback puts back (null: it had none). */
  previous: SecretRef | null;
  /** The database server's clock when the password changed: sessions older than this used the old one. */
  rotatedAt: string;
  /** An earlier attempt of this step had already rotated (a retry after a worker crash). */
  reused: boolean;
}

export interface CredentialRevocation {
  database: string;
  role: string;
  /** Sessions of the role opened before the rotation, ended now. */
  sessionsEnded: number;
  /** What the access check found for the old password on this database. */
  oldPassword: 'refused' | 'not on this database';
  newPassword: 'accepted';
  /** One line for the timeline. */
  detail: string;
}

const failure = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });

const withAdmin = async <T>(admin: DatabaseConnection, fn: (db: Client) => Promise<T>) => withDatabaseClient({ ...admin, password: await admin.password() }, fn);

/** Whether PostgreSQL accepts this connection URL's credentials; false only for an authentication refusal. */
async function signsIn(url: string, at: DatabaseConnection): Promise<boolean> {
  const parsed = new URL(url);
  try {
    await withDatabaseClient({ host: at.host, port: at.port, database: at.database, user: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) }, async () => undefined);
    return true;
  } catch (error) {
    // 28P01 invalid_password, 28000 invalid_authorization_specification (e.g. NOLOGIN, no pg_hba line)
    if (['28P01', '28000'].includes((error as { code?: string }).code ?? '')) return false;
    throw error;
  }
}

const userOf = (url: string) => decodeURIComponent(new URL(url).username);
const sameEndpoint = (url: string, at: DatabaseConnection) => formatEndpoint(endpointOfUrl(url)) === formatEndpoint(at);

/**
 * Rotation activities over the SecretStore, the database's admin connection and the AppRuntime. The
 * workflow runs them around the cutover: rotate → point → rollout restart → rollout status → health →
 * revoke; on a failed rollout, restorePreviousAppConnection puts the version back the application held.
 */
export function createSecretRotationActivities({ runtime, databases, secrets, connectionSecret, applicationRole }: SecretRotationWiring) {
  return {
    /**
     * A new password for the application role on the database the application moves to (set through
     * the admin connection as a SCRAM verifier, so the password itself never reaches the server), stored
     * as a new version of the connection secret. The version the application holds now is kept first.
     */
    async rotateDatabaseSecret(input: { database: string }): Promise<CredentialRotation> {
      if (!applicationRole) {
        throw failure(FailureType.CredentialRotationFailed, 'app.databaseRole is not configured: name the PostgreSQL role the application signs in as, so the cutover can give it a new password on the database it moves to');
      }
      const role = applicationRole;
      const target = await resolveDatabaseTarget(databases, input.database);
      const endpoint = { host: target.host, port: target.port, database: target.database };
      const previous = await runtime.adoptCurrentConnection(connectionSecret);
      const base = { database: input.database, role, endpoint: formatEndpoint(endpoint), previous };

      // A retry after a crash finds the version its earlier attempt wrote: newer than what the application
      // holds, a connection as the role to this database, and accepted there.
      const current = await secrets.read(connectionSecret).catch(() => undefined);
      if (current && current.version !== previous?.version && userOf(current.value) === role && sameEndpoint(current.value, target) && (await signsIn(current.value, target))) {
        const rotatedAt = await withAdmin(target, async (db) => (await db.query<{ at: Date }>('SELECT clock_timestamp() AS at')).rows[0]!.at.toISOString());
        return { ...base, secret: { name: current.name, version: current.version }, rotatedAt, reused: true };
      }

      const password = newDatabasePassword();
      const rotatedAt = await withAdmin(target, async (db) => {
        const found = await db.query<{ rolcanlogin: boolean }>('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [role]);
        if (found.rowCount === 0) throw failure(FailureType.CredentialRotationFailed, `role "${role}" (app.databaseRole) does not exist on ${input.database} (${formatEndpoint(endpoint)}): it is the role the application signs in as, and a restored or promoted copy of production has it`);
        if (!found.rows[0]!.rolcanlogin) throw failure(FailureType.CredentialRotationFailed, `role "${role}" (app.databaseRole) on ${input.database} cannot log in (NOLOGIN): the application could not sign in with any password`);
        try {
          await db.query(`ALTER ROLE ${db.escapeIdentifier(role)} PASSWORD ${db.escapeLiteral(scramSha256Verifier(password))}`);
        } catch (error) {
          if ((error as { code?: string }).code === '25006') throw failure(FailureType.CredentialRotationFailed, `${input.database} is read-only (a standby that is not promoted?): the password of "${role}" cannot be changed there`);
          throw error;
        }
        return (await db.query<{ at: Date }>('SELECT clock_timestamp() AS at')).rows[0]!.at.toISOString();
      });
      const written = await secrets.write(connectionSecret, databaseUrl({ ...endpoint, user: role, password }));
      return { ...base, secret: { name: written.name, version: written.version }, rotatedAt, reused: false };
    },

    /**
     * The security engineer's access check, after the application answers healthy with the new password:
     * sessions the role opened before the rotation are ended, the old password must be refused by the
     * database and the new one accepted.
     */
    async revokeOldDatabaseCredential(input: { rotation: CredentialRotation }): Promise<CredentialRevocation> {
      const { rotation } = input;
      const target = await resolveDatabaseTarget(databases, rotation.database);
      const sessionsEnded = await withAdmin(target, async (db) => (await db.query<{ ended: number }>(
        'SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS ended FROM pg_stat_activity WHERE usename = $1 AND backend_start < $2 AND pid <> pg_backend_pid()',
        [rotation.role, rotation.rotatedAt],
      )).rows[0]!.ended);

      const newValue = (await secrets.read(rotation.secret)).value;
      if (!(await signsIn(newValue, target))) {
        throw failure(FailureType.CredentialNotRevoked, `the new password of "${rotation.role}" (${rotation.secret.name} version ${rotation.secret.version}) is refused by ${rotation.database}: the application signs in with it, so check whether someone changed it since`);
      }
      let oldPassword: CredentialRevocation['oldPassword'] = 'not on this database';
      const oldValue = rotation.previous ? (await secrets.read(rotation.previous)).value : undefined;
      if (oldValue !== undefined && userOf(oldValue) === rotation.role) {
        if (await signsIn(oldValue, target)) {
          throw failure(FailureType.CredentialNotRevoked, `the old password of "${rotation.role}" (${rotation.previous!.name} version ${rotation.previous!.version}) is still accepted by ${rotation.database}: PostgreSQL does not check it (a trust or peer line in pg_hba.conf for this host?), so the rotation protects nothing until that is fixed`);
        }
        oldPassword = 'refused';
      }
      const detail = `old password of ${rotation.role} ${oldPassword === 'refused' ? 'refused' : `not tested (the application signed in as ${oldValue ? userOf(oldValue) : 'nobody'} before)`}, new one accepted, ${sessionsEnded} older session(s) ended`;
      return { database: rotation.database, role: rotation.role, sessionsEnded, oldPassword, newPassword: 'accepted', detail };
    },

    /** A failed rollout's way back: the version the application held before is current again, and the application points at it. */
    async restorePreviousAppConnection(input: { rotation: CredentialRotation; database?: string }): Promise<PointAppResult> {
      const previous = input.rotation.previous;
      if (!previous?.version) {
        throw failure(FailureType.CutoverRolledBack, `nothing to put back: the application had no connection in ${input.rotation.secret.name} before the cutover`);
      }
      await secrets.makeCurrent(previous.name, previous.version);
      const value = await secrets.read(previous);
      const endpoint = endpointOfUrl(value.value);
      return runtime.pointAppAt({ database: input.database ?? formatEndpoint(endpoint), endpoint, secret: { name: previous.name, version: previous.version } });
    },
  };
}
export type SecretRotationActivities = ReturnType<typeof createSecretRotationActivities>;
