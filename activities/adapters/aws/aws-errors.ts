import { FailureType, type FailureTypeName } from '../../../contracts/failure-types';
import { PlatformFailure } from '../../ports/database-platform';

/** What an AWS error means for a runbook: its failure type, whether a retry can help, and what to do. */
export interface AwsErrorClass {
  type: FailureTypeName;
  retryable: boolean;
  advice: string;
}

const accessDenied = /^(AccessDenied|AccessDeniedException|UnauthorizedOperation|NotAuthorized|AuthorizationError|InvalidClientTokenId|UnrecognizedClientException|ExpiredToken|ExpiredTokenException|SignatureDoesNotMatch)$/;
const badRequest = /^(InvalidParameterValue|InvalidParameterCombination|InvalidParameterException|InvalidRequestException|ValidationError|ValidationException|MissingParameter|InvalidRestoreFault|PointInTimeRestoreNotEnabledFault|KMSKeyNotAccessibleFault|InvalidInput|InvalidChangeBatch|InvalidDBInstanceAutomatedBackupStateFault|StorageTypeNotSupportedFault|InvalidVPCNetworkStateFault|InvalidSubnet)$/;

/**
 * Classifies an AWS SDK error by its name (the service's error code): undefined for errors that are not
 * the service's answer to the request (network, throttling after the SDK's own retries, 5xx), which the
 * activity's retry policy handles as they are.
 */
export function classifyAwsError(error: unknown): AwsErrorClass | undefined {
  const name = (error as { name?: string } | undefined)?.name ?? '';
  if (accessDenied.test(name)) return { type: FailureType.PlatformAccessDenied, retryable: false, advice: "grant the action to the worker's IAM role (README: Running against AWS and Kubernetes)" };
  if (/QuotaExceeded|LimitExceeded|TooManyHostedZones|InsufficientDBInstanceCapacity/.test(name)) {
    return { type: FailureType.PlatformQuotaExceeded, retryable: false, advice: 'raise the quota (Service Quotas) or remove what is no longer needed, then start the runbook again' };
  }
  if (/NotFound|NoSuchKey|NoSuchBucket|NoSuchHostedZone|NoSuchVersion/.test(name)) return { type: FailureType.PlatformNotFound, retryable: false, advice: 'check the name in the worker config and the region it lives in' };
  if (/AlreadyExists|ResourceExistsException|BucketAlreadyOwnedByYou/.test(name)) return { type: FailureType.PlatformAlreadyExists, retryable: false, advice: 'a resource under that name is in the way: remove it, or start a new runbook (a new workflow id builds under new names)' };
  if (/^Invalid.*State|InvalidStateException|PriorRequestNotComplete|ConflictingDomainExists/.test(name)) {
    return { type: FailureType.PlatformInvalidState, retryable: true, advice: 'the resource is busy (modifying, backing up): the step is retried' };
  }
  if (badRequest.test(name)) return { type: FailureType.PlatformRequestError, retryable: false, advice: 'the request was refused as it stands: check the config values it names' };
  return undefined;
}

/**
 * The SDK error as a PlatformFailure naming the call (`rds:RestoreDBInstanceToPointInTime`) and what it
 * was for; an error that is not classified is returned unchanged (so it stays retryable).
 */
export function platformFailureOf(error: unknown, action: string, what: string): unknown {
  const kind = classifyAwsError(error);
  if (!kind) return error;
  const e = error as { name?: string; message?: string };
  return new PlatformFailure(kind.type, `${what}: ${action} answered ${e.name}: ${e.message ?? ''}`.trim() + `; ${kind.type === FailureType.PlatformAccessDenied ? `grant ${action} to the worker's IAM role (README: Running against AWS and Kubernetes)` : kind.advice}`, kind.retryable, { cause: error });
}

/** S3 calls whose IAM action is not named like the call. */
const s3Actions: Record<string, string> = {
  ListObjectsV2: 's3:ListBucket',
  ListObjectVersions: 's3:ListBucketVersions',
  GetObjectLockConfiguration: 's3:GetBucketObjectLockConfiguration',
};

/** The IAM action a call needs: `rds:` + the command's name without `Command` (S3 names a few differently). */
export function iamActionOf(service: string, command: object): string {
  return iamActionFor(service, command.constructor.name);
}

export function iamActionFor(service: string, commandName: string): string {
  const call = commandName.replace(/Command$/, '');
  return (service === 's3' ? s3Actions[call] : undefined) ?? `${service}:${call}`;
}

/** True for an error the service answered with this name (or one of these names). */
export function isAwsError(error: unknown, ...names: string[]): boolean {
  const name = (error as { name?: string } | undefined)?.name;
  return name !== undefined && names.includes(name);
}

/**
 * Sends one command, turning the service's refusal into a PlatformFailure that names the IAM action and
 * what the call was for. Errors named in `expected` come back as the SDK threw them, for the caller to
 * handle (a describe that finds nothing, a create that finds its resource already there).
 */
export async function sendMapped<C extends object, T>(service: string, what: string, command: C, send: (command: C) => Promise<T>, expected: string[] = []): Promise<T> {
  try {
    return await send(command);
  } catch (error) {
    if (isAwsError(error, ...expected)) throw error;
    throw platformFailureOf(error, iamActionOf(service, command), what);
  }
}
