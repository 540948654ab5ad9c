import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DescribeDBInstancesCommand, RestoreDBInstanceToPointInTimeCommand } from '@aws-sdk/client-rds';
import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { FailureType } from '../../contracts/failure-types';
import { PlatformFailure } from '../../activities/ports/database-platform';
import { classifyAwsError, iamActionOf, platformFailureOf, sendMapped } from '../../activities/adapters/aws/aws-errors';

// AWS's answers as the runbooks' failure types: a retry cannot fix a missing instance, a name in the way,
// a quota or a denied action (non-retryable, with what to do); a busy resource may be fine on the next try.
const awsError = (name: string, message = 'from AWS') => Object.assign(new Error(message), { name });

test('not found, already exists, quota, invalid state and access denied map to their failure types', () => {
  const cases: Array<[string, string, boolean]> = [
    ['DBInstanceNotFoundFault', FailureType.PlatformNotFound, false],
    ['DBSnapshotNotFoundFault', FailureType.PlatformNotFound, false],
    ['NoSuchHostedZone', FailureType.PlatformNotFound, false],
    ['ResourceNotFoundException', FailureType.PlatformNotFound, false],
    ['DBInstanceAlreadyExistsFault', FailureType.PlatformAlreadyExists, false],
    ['ResourceExistsException', FailureType.PlatformAlreadyExists, false],
    ['InstanceQuotaExceededFault', FailureType.PlatformQuotaExceeded, false],
    ['SnapshotQuotaExceededFault', FailureType.PlatformQuotaExceeded, false],
    ['StorageQuotaExceededFault', FailureType.PlatformQuotaExceeded, false],
    ['InsufficientDBInstanceCapacityFault', FailureType.PlatformQuotaExceeded, false],
    ['LimitExceededException', FailureType.PlatformQuotaExceeded, false],
    ['InvalidDBInstanceStateFault', FailureType.PlatformInvalidState, true],
    ['InvalidDBSnapshotStateFault', FailureType.PlatformInvalidState, true],
    ['PriorRequestNotComplete', FailureType.PlatformInvalidState, true],
    ['AccessDenied', FailureType.PlatformAccessDenied, false],
    ['AccessDeniedException', FailureType.PlatformAccessDenied, false],
    ['ExpiredTokenException', FailureType.PlatformAccessDenied, false],
    ['InvalidParameterValue', FailureType.PlatformRequestError, false],
    ['InvalidParameterCombination', FailureType.PlatformRequestError, false],
    ['PointInTimeRestoreNotEnabledFault', FailureType.PlatformRequestError, false],
    ['KMSKeyNotAccessibleFault', FailureType.PlatformRequestError, false],
    ['InvalidChangeBatch', FailureType.PlatformRequestError, false],
  ];
  for (const [name, type, retryable] of cases) assert.deepEqual({ name, ...pick(classifyAwsError(awsError(name))) }, { name, type, retryable });
});

const pick = (c: ReturnType<typeof classifyAwsError>) => ({ type: c?.type, retryable: c?.retryable });

test('throttling, 5xx and network errors are not classified: they stay retryable as they are', () => {
  for (const name of ['Throttling', 'ThrottlingException', 'InternalFailure', 'ServiceUnavailable', 'TimeoutError', 'ECONNREFUSED']) assert.equal(classifyAwsError(awsError(name)), undefined, name);
  const network = awsError('ECONNRESET');
  assert.equal(platformFailureOf(network, 'rds:DescribeDBInstances', 'describe production'), network);
});

test('the failure names the call, what it was for, AWS\'s answer and what to do', () => {
  const denied = platformFailureOf(awsError('AccessDenied', 'User is not authorized to perform rds:RestoreDBInstanceToPointInTime'), 'rds:RestoreDBInstanceToPointInTime', 'restore production to 2026-11-23T03:11:59Z into inc-2041-pitr') as PlatformFailure;
  assert.ok(denied instanceof PlatformFailure);
  assert.match(denied.message, /^restore production to 2026-11-23T03:11:59Z into inc-2041-pitr: rds:RestoreDBInstanceToPointInTime answered AccessDenied: User is not authorized.*; grant rds:RestoreDBInstanceToPointInTime to the worker's IAM role/);
  const quota = platformFailureOf(awsError('InstanceQuotaExceededFault', 'quota of 40 DB instances reached'), 'rds:RestoreDBInstanceToPointInTime', 'restore') as PlatformFailure;
  assert.match(quota.message, /raise the quota \(Service Quotas\) or remove what is no longer needed/);
});

test('the IAM action of a call: the service and the command name, S3\'s differently named ones mapped', () => {
  assert.equal(iamActionOf('rds', new DescribeDBInstancesCommand({})), 'rds:DescribeDBInstances');
  assert.equal(iamActionOf('s3', new ListObjectVersionsCommand({ Bucket: 'b' })), 's3:ListBucketVersions');
});

test('sendMapped passes the expected errors through untouched and maps the rest with the call\'s action', async () => {
  const command = new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: 'a', TargetDBInstanceIdentifier: 'b' });
  await assert.rejects(sendMapped('rds', 'restore', command, async () => { throw awsError('DBInstanceAlreadyExistsFault'); }, ['DBInstanceAlreadyExistsFault']), { name: 'DBInstanceAlreadyExistsFault' });
  await assert.rejects(sendMapped('rds', 'restore', command, async () => { throw awsError('DBInstanceAlreadyExistsFault'); }), (e: unknown) => e instanceof PlatformFailure && e.type === FailureType.PlatformAlreadyExists && /rds:RestoreDBInstanceToPointInTime answered DBInstanceAlreadyExistsFault/.test(e.message));
});
