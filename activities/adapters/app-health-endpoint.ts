import type { AppHealth, AppHealthCheck, WaitHealthyOptions } from '../ports/app-runtime';
import { errorText } from '../../contracts/error-text';
import { sleepUnlessAborted } from '../../lib/child-process';

// The application's health URL, polled until it answers healthy from the expected database: the local
// runtime and the Kubernetes runtime (where the worker can reach the application) read it the same way.

/** What the demo financial service's /health/database answers (and any application that says where it is connected). */
interface HealthBody {
  database?: AppHealth['database'];
  checkedAt?: string;
  serverVersion?: string;
  userCount?: number;
  transactionCount?: number;
  totalAmount?: string;
  error?: string;
  /** The service's own checks (connectivity, data integrity, functionality), when it runs them. */
  checks?: AppHealthCheck[];
}

export interface HealthEndpoint {
  /** The application's health URL; without one, health is the runtime's own checks and where it is configured to connect. */
  url?: string;
  /** How the timeline names the application: "the financial service", "deployment/mita-backend". */
  application: string;
  /** Where the application's database is configured, for an answer that does not say (HTTP 200, no body to read). */
  configuredDatabase?: () => Promise<AppHealth['database'] | undefined>;
  /** Checks the runtime runs itself before the URL is asked (a Deployment's available replicas); a failed one is the answer. */
  runtimeChecks?: () => Promise<AppHealthCheck[]>;
  /** More words for a timeout message (the end of the process's log). */
  afterTimeout?: () => string | undefined;
}

/** The answer's named checks: the demo service's integrity totals (or the endpoint's HTTP status), then the checks it runs itself. */
function checksOf(url: string, status: number, body: HealthBody | undefined): AppHealthCheck[] {
  const own = Array.isArray(body?.checks) ? body.checks : [];
  if (body && body.userCount !== undefined && body.transactionCount !== undefined && body.totalAmount !== undefined) {
    const { userCount, transactionCount, totalAmount, serverVersion } = body;
    return [{ name: 'integrity totals', passed: true, detail: `users ${userCount}, transactions ${transactionCount}, total ${totalAmount}`, figures: { userCount, transactionCount, totalAmount, ...(serverVersion ? { serverVersion } : {}) } }, ...own];
  }
  return [{ name: 'health endpoint', passed: true, detail: `HTTP ${status} from ${url}${body?.database ? '' : ' (the application does not say which database it answers from)'}` }, ...own];
}

/** Resolves with the first healthy answer from the expected database; rejects with the last answer at the deadline. */
export async function waitForHealthyAnswer(endpoint: HealthEndpoint, wait: WaitHealthyOptions): Promise<AppHealth> {
  const deadline = Date.now() + wait.timeoutMs;
  const want = wait.expect && `${wait.expect.address}/${wait.expect.database}${wait.expect.systemIdentifier ? ` (system ${wait.expect.systemIdentifier})` : ''}`;
  let last = 'no answer yet';
  for (let attempt = 1; ; attempt++) {
    try {
      const runtimeChecks = (await endpoint.runtimeChecks?.()) ?? [];
      const failed = runtimeChecks.find((c) => !c.passed);
      if (failed) {
        last = `${failed.name}: ${failed.detail}`;
      } else {
        const answer = endpoint.url ? await ask(endpoint, endpoint.url, wait) : await configuredOnly(endpoint, wait);
        if ('health' in answer) return { ...answer.health, checks: [...runtimeChecks, ...answer.health.checks] };
        last = answer.problem;
      }
    } catch (error) {
      last = `no answer from ${endpoint.url ?? endpoint.application}: ${errorText(error, { innermost: true })}`;
    }
    wait.onPoll?.(attempt, last);
    if (wait.signal?.aborted) throw new Error(`stopped waiting for ${endpoint.application}: cancelled (last answer: ${last})`);
    if (Date.now() >= deadline) {
      const more = endpoint.afterTimeout?.();
      throw new Error(`${endpoint.application} did not answer healthy${want ? ` from ${want}` : ''} within ${Math.round(wait.timeoutMs / 1000)} s; last answer: ${last}${more ? `; ${more}` : ''}`);
    }
    await sleepUnlessAborted(Math.min(wait.intervalMs ?? 500, Math.max(deadline - Date.now(), 0)), wait.signal);
  }
}

type Answer = { health: AppHealth } | { problem: string };

/** Without a health URL the runtime's checks are the answer, from the database the application is configured for. */
async function configuredOnly(endpoint: HealthEndpoint, wait: WaitHealthyOptions): Promise<Answer> {
  const database = await endpoint.configuredDatabase?.();
  if (!database) return { problem: `${endpoint.application} has no health URL and the runtime does not say which database it uses` };
  if (wait.expect && (database.address !== wait.expect.address || database.database !== wait.expect.database)) {
    return { problem: `${endpoint.application} is configured for ${database.address}/${database.database}, not the expected one` };
  }
  return { health: { database, checkedAt: new Date().toISOString(), checks: [] } };
}

async function ask(endpoint: HealthEndpoint, url: string, wait: WaitHealthyOptions): Promise<Answer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const text = await response.text();
  let body: HealthBody | undefined;
  try {
    body = JSON.parse(text) as HealthBody;
  } catch {
    body = undefined;
  }
  const reported = body?.database;
  const from = reported ? `${reported.address}/${reported.database}` : 'an unknown database';
  if (response.status !== 200) return { problem: `HTTP ${response.status} from ${from}: ${body?.error ?? (text.slice(0, 200) || 'no error message')}` };
  const database = reported ?? (await endpoint.configuredDatabase?.());
  if (!database) return { problem: `HTTP 200 from ${url}, but neither the answer nor the runtime says which database the application uses` };
  if (!reported && wait.expect && (database.address !== wait.expect.address || database.database !== wait.expect.database)) {
    return { problem: `HTTP 200 from ${url}, but the application is configured for ${database.address}/${database.database}, not the expected one` };
  }
  if (reported && wait.expect && (reported.address !== wait.expect.address || reported.database !== wait.expect.database
    || (wait.expect.systemIdentifier && reported.systemIdentifier !== wait.expect.systemIdentifier))) {
    return { problem: `healthy, but from ${from} (system ${reported.systemIdentifier}), not the expected one` };
  }
  return { health: { database, checkedAt: body?.checkedAt ?? new Date().toISOString(), checks: checksOf(url, response.status, body) } };
}
