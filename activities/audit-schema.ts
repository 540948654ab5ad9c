import { escapeIdentifier, escapeLiteral, type ClientBase } from 'pg';

export interface AuditSchemaOptions {
  /** The role the runbook worker connects as (or a group role granted to it): INSERT and SELECT only. */
  writerRole: string;
  /** When given, the role can log in with it (created with it, or its password reset to it). */
  writerPassword?: string;
}

const roleName = /^[a-z_][a-z0-9_]{0,62}$/;

/*
 * Append-only by three locks, each for a different hand:
 * - the writer role has INSERT and SELECT only, so the runbook cannot change what it wrote;
 * - a trigger refuses UPDATE, DELETE and TRUNCATE, so even the owner does not do it by accident;
 * - a superuser can still disable the trigger: the hash chain (verifyAuditChain) is what catches that.
 * The CHECKs keep malformed rows out; they prove nothing against someone who can drop them.
 */
const tableDdl = `
CREATE TABLE IF NOT EXISTS dr_audit_log (
  workflow_id text NOT NULL,
  seq int NOT NULL CHECK (seq >= 1),
  at timestamptz NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  detail jsonb NOT NULL CHECK (jsonb_typeof(detail) = 'object'),
  prev_hash text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  PRIMARY KEY (workflow_id, seq)
);
COMMENT ON TABLE dr_audit_log IS 'Append-only audit trail of dr-runbooks; hash chain per workflow_id, see activities/audit-hash.ts';

CREATE OR REPLACE FUNCTION dr_audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'dr_audit_log is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege', HINT = 'audit rows are never changed or removed; append a correcting entry instead';
END
$$;

CREATE OR REPLACE TRIGGER dr_audit_log_append_only
  BEFORE UPDATE OR DELETE ON dr_audit_log
  FOR EACH ROW EXECUTE FUNCTION dr_audit_log_refuse_change();

CREATE OR REPLACE TRIGGER dr_audit_log_no_truncate
  BEFORE TRUNCATE ON dr_audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION dr_audit_log_refuse_change();

REVOKE ALL ON dr_audit_log FROM PUBLIC;

-- One-time codes (TOTP steps) approvers have used: a code counts once, across every runbook.
CREATE TABLE IF NOT EXISTS dr_vote_codes_used (
  approver text NOT NULL,
  step bigint NOT NULL CHECK (step >= 0),
  workflow_id text NOT NULL,
  activity_id text NOT NULL,
  used_at timestamptz NOT NULL,
  PRIMARY KEY (approver, step)
);
REVOKE ALL ON dr_vote_codes_used FROM PUBLIC;
`;

/**
 * Creates the audit table, its append-only triggers and the writer role (idempotent: run it at every
 * deploy). Run it as the table's owner (an admin), never as the writer.
 */
export async function installAuditSchema(admin: ClientBase, opts: AuditSchemaOptions): Promise<void> {
  if (!roleName.test(opts.writerRole)) {
    throw new Error(`writerRole: "${opts.writerRole}" is not a plain role name (lowercase letters, digits and _, at most 63)`);
  }
  const role = escapeIdentifier(opts.writerRole);
  await admin.query('BEGIN');
  try {
    // Two deploys installing at once would race on CREATE ROLE and CREATE TABLE.
    await admin.query("SELECT pg_advisory_xact_lock(hashtext('dr_audit_log install'))");
    await admin.query(tableDdl);
    const exists = (await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [opts.writerRole])).rowCount === 1;
    const login = opts.writerPassword !== undefined ? ` LOGIN PASSWORD ${escapeLiteral(opts.writerPassword)}` : '';
    if (!exists) await admin.query(`CREATE ROLE ${role}${login || ' NOLOGIN'}`);
    else if (login) await admin.query(`ALTER ROLE ${role}${login}`);
    await admin.query(`REVOKE ALL ON dr_audit_log FROM ${role}`);
    await admin.query(`GRANT SELECT, INSERT ON dr_audit_log TO ${role}`);
    await admin.query(`REVOKE ALL ON dr_vote_codes_used FROM ${role}`);
    await admin.query(`GRANT SELECT, INSERT ON dr_vote_codes_used TO ${role}`);
    await admin.query('COMMIT');
  } catch (error) {
    await admin.query('ROLLBACK').catch(() => undefined);
    // The statement text may hold the password; the server's message does not, so pass only that on.
    throw new Error(`installing the audit schema failed: ${(error as Error).message}`);
  }
}
