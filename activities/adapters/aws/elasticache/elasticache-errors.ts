import { PlatformRequestError } from '../../../ports/database-platform';

// ElastiCache's refusals in the port's words: a request it will not do as it stands is a
// PlatformRequestError (not retried) that names the IAM action and what to do; an answer that is not a
// refusal (throttling after the SDK's retries, a 5xx, the network, a group still modifying) is thrown as
// it is, so the activity's retry policy handles it.

const accessDenied = /^(AccessDenied|AccessDeniedException|UnauthorizedOperation|InvalidClientTokenId|UnrecognizedClientException|ExpiredToken|ExpiredTokenException|SignatureDoesNotMatch)$/;

/** What a refusal means, or undefined for an error a retry may get past. */
export function refusalAdvice(name: string, action: string): string | undefined {
  if (accessDenied.test(name)) return `grant ${action} to the worker's IAM role`;
  if (/QuotaExceeded|QuotaForCustomer|InsufficientCacheClusterCapacity/.test(name)) return 'raise the quota (Service Quotas) or remove what is no longer needed, then start the runbook again';
  if (/^(InvalidParameterValue|InvalidParameterCombination|InvalidParameter|ValidationError|InvalidVPCNetworkState|InvalidSubnet|CacheSubnetGroupNotFound|CacheParameterGroupNotFound|InvalidKMSKey)/.test(name)) return 'the request was refused as it stands: check the cache.elasticache values it names (node type, subnet group, security groups)';
  return undefined;
}

const errorName = (error: unknown) => (error as { name?: string } | undefined)?.name ?? '';

/** True for an error the service answered with one of these names. */
export function isElastiCacheError(error: unknown, ...names: string[]): boolean {
  return names.includes(errorName(error));
}

/**
 * Sends one command. Errors named in `expected` come back as the SDK threw them (a describe that finds
 * nothing, a create that finds its resource there); a refusal becomes a PlatformRequestError.
 */
export async function sendElastiCache<C extends object, T>(what: string, command: C, send: (command: C) => Promise<T>, expected: string[] = []): Promise<T> {
  try {
    return await send(command);
  } catch (error) {
    if (isElastiCacheError(error, ...expected)) throw error;
    const action = `elasticache:${command.constructor.name.replace(/Command$/, '')}`;
    const advice = refusalAdvice(errorName(error), action);
    if (!advice) throw error;
    throw new PlatformRequestError(`${what}: ${action} answered ${errorName(error)}: ${(error as Error).message}; ${advice}`, { cause: error });
  }
}
