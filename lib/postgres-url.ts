// PostgreSQL connection URLs (postgresql://user:password@host:port/dbname) and the part of one that may be
// shown anywhere: host, port and database, never the user or the password.

/** host:port/dbname — the part of a connection URL that may be shown anywhere (no user, no password). */
export interface DatabaseEndpoint {
  host: string;
  port: number;
  database: string;
}

export function endpointOfUrl(url: string): DatabaseEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('DATABASE_URL is not a valid URL (postgresql://user:password@host:port/dbname)');
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) throw new Error(`DATABASE_URL must start with postgresql://, not ${parsed.protocol}//`);
  return {
    host: decodeURIComponent(parsed.hostname),
    port: parsed.port ? Number(parsed.port) : 5432,
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres',
  };
}

export const formatEndpoint = (e: DatabaseEndpoint) => `${e.host}:${e.port}/${e.database}`;

export function databaseUrl(target: DatabaseEndpoint & { user: string; password: string }): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `postgresql://${encodeURIComponent(target.user)}:${encodeURIComponent(target.password)}@${host}:${target.port}/${encodeURIComponent(target.database)}`;
}
