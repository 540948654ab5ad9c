import { existsSync } from 'node:fs';
import path from 'node:path';
import { PrerequisiteError } from '../../../../lib/prerequisite-error';

/** PostgreSQL 15 server binaries from Debian's postgresql-15 package (override: DR_PG_BIN). */
export function postgresBinDir(): string {
  const dir = process.env.DR_PG_BIN ?? '/usr/lib/postgresql/15/bin';
  if (!existsSync(path.join(dir, 'initdb')) || !existsSync(path.join(dir, 'pg_ctl'))) {
    throw new PrerequisiteError(`PostgreSQL 15 server binaries are not in ${dir}`, 'run `npm run bootstrap` (apt-get install postgresql-15), or set DR_PG_BIN');
  }
  return dir;
}
