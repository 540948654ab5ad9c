import { databaseUrl, endpointOfUrl } from '../../../lib/postgres-url';

/** The keys of the application's Secret the runbooks write (config `app.kubernetes.secretKeys`). */
export interface AppSecretKeys {
  url?: string;
  host?: string;
  port?: string;
  database?: string;
  user?: string;
  password?: string;
}

/** A Secret's data as text (the API carries it base64-encoded). */
export const decodeData = (data: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
export const encodeData = (data: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'utf8').toString('base64')]));

/** The configured keys of the application's Secret, from one connection URL. */
export function appSecretData(url: string, keys: AppSecretKeys): Record<string, string> {
  const parsed = new URL(url);
  const endpoint = endpointOfUrl(url);
  const parts: Record<keyof AppSecretKeys, string> = {
    url,
    host: endpoint.host,
    port: String(endpoint.port),
    database: endpoint.database,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
  const data: Record<string, string> = {};
  for (const [part, key] of Object.entries(keys) as Array<[keyof AppSecretKeys, string | undefined]>) if (key) data[key] = parts[part];
  return data;
}

/** The connection URL the application's Secret holds (its URL key, else its five parts), or undefined. */
export function connectionUrlOf(data: Record<string, string>, keys: AppSecretKeys): string | undefined {
  if (keys.url && data[keys.url]) return data[keys.url];
  const { host, port, database, user, password } = keys;
  if (!host || !port || !database || !user || !password) return undefined;
  if (![host, port, database, user, password].every((key) => data[key] !== undefined)) return undefined;
  return databaseUrl({ host: data[host]!, port: Number(data[port]), database: data[database]!, user: data[user]!, password: data[password]! });
}

/** Whether the Secret's configured keys already hold exactly this data. */
export const holds = (data: Record<string, string>, wanted: Record<string, string>) => Object.entries(wanted).every(([key, value]) => data[key] === value);
