import { DescribeDBInstancesCommand, type DBInstance, type RDSClient } from '@aws-sdk/client-rds';
import { FailureType } from '../../../../contracts/failure-types';
import { PlatformFailure, PlatformRequestError, type InstanceId } from '../../../ports/database-platform';
import { isAwsError, sendMapped } from '../aws-errors';

/** An instance the platform is enrolled with (config `platform.rds.instances`): its RDS identifier and region. */
export interface RdsEnrolledInstance {
  /** DBInstanceIdentifier, or the instance's ARN (which names its region). */
  identifier: string;
  /** Required unless the identifier is an ARN. */
  region?: string;
}

/** Where an instance id lives in RDS, and what RDS said about it the last time it was asked. */
export interface LocatedInstance {
  instanceId: InstanceId;
  region: string;
  identifier: string;
  enrolled: boolean;
  db: DBInstance;
}

const arnPattern = /^arn:aws[a-z-]*:rds:([a-z0-9-]+):(\d{12}):db:([A-Za-z][A-Za-z0-9-]*)$/;

export function parseInstanceArn(value: string): { region: string; account: string; identifier: string } | undefined {
  const match = arnPattern.exec(value);
  return match ? { region: match[1]!, account: match[2]!, identifier: match[3]! } : undefined;
}

/** An enrolled instance's identifier and region, from an identifier and region or from its ARN. */
export function enrolledAddress(instanceId: InstanceId, entry: RdsEnrolledInstance): { identifier: string; region: string } {
  const arn = parseInstanceArn(entry.identifier);
  if (arn) {
    if (entry.region && entry.region !== arn.region) throw new PlatformRequestError(`platform.rds.instances.${instanceId}: region ${entry.region} is not the region of its ARN (${arn.region})`);
    return { identifier: arn.identifier, region: arn.region };
  }
  if (!entry.region) throw new PlatformRequestError(`platform.rds.instances.${instanceId}: give its region (or its ARN as identifier)`);
  return { identifier: entry.identifier, region: entry.region };
}

/**
 * Finds instances: an enrolled one where the config says; one dr-runbooks built under its own id (the
 * RDS identifier is the instance id) in the region it was last seen in, else in each region the enrolled
 * instances live in, in config order.
 */
export function createRdsLocator(rds: (region: string) => RDSClient, instances: Record<InstanceId, RdsEnrolledInstance>) {
  const enrolled = new Map(Object.entries(instances).map(([id, entry]) => [id, enrolledAddress(id, entry)]));
  const regions = [...new Set([...enrolled.values()].map((e) => e.region))];
  const lastSeen = new Map<InstanceId, string>();

  async function describe(region: string, identifier: string): Promise<DBInstance | undefined> {
    try {
      const out = await sendMapped('rds', `describe ${identifier} in ${region}`, new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }), (c) => rds(region).send(c), ['DBInstanceNotFoundFault']);
      return out.DBInstances?.[0];
    } catch (error) {
      if (isAwsError(error, 'DBInstanceNotFoundFault')) return undefined;
      throw error;
    }
  }

  return {
    regions,
    enrolledIds: [...enrolled.keys()],
    /** The enrolled instance id an RDS identifier or ARN names (a replica's source), if it is one. */
    enrolledIdOf(identifierOrArn: string, region: string): InstanceId | undefined {
      const arn = parseInstanceArn(identifierOrArn);
      const wanted = arn ? { identifier: arn.identifier, region: arn.region } : { identifier: identifierOrArn, region };
      return [...enrolled].find(([, e]) => e.identifier === wanted.identifier && e.region === wanted.region)?.[0];
    },
    isEnrolled: (instanceId: InstanceId) => enrolled.has(instanceId),
    /** Whether an RDS identifier in a region is one of the enrolled instances. */
    isEnrolledIdentifier: (identifier: string, region: string) => [...enrolled.values()].some((e) => e.identifier === identifier && e.region === region),
    async locate(instanceId: InstanceId): Promise<LocatedInstance | undefined> {
      const address = enrolled.get(instanceId);
      if (address) {
        const db = await describe(address.region, address.identifier);
        return db && { instanceId, ...address, enrolled: true, db };
      }
      const seen = lastSeen.get(instanceId);
      for (const region of seen ? [seen, ...regions.filter((r) => r !== seen)] : regions) {
        const db = await describe(region, instanceId);
        if (db) {
          lastSeen.set(instanceId, region);
          return { instanceId, region, identifier: instanceId, enrolled: false, db };
        }
      }
      return undefined;
    },
    /** An enrolled instance, which must exist: the source of a backup, a restore or a replica. */
    async enrolledSource(instanceId: InstanceId): Promise<LocatedInstance> {
      if (!enrolled.has(instanceId)) throw new PlatformRequestError(`"${instanceId}" is not an instance the RDS platform is enrolled with (platform.rds.instances: ${[...enrolled.keys()].join(', ') || 'none'}): backups, restores and replicas start from an enrolled instance`);
      const located = await this.locate(instanceId);
      if (!located) {
        const address = enrolled.get(instanceId)!;
        throw new PlatformFailure(FailureType.PlatformNotFound, `instance "${instanceId}" (${address.identifier} in ${address.region}) does not exist in RDS: check platform.rds.instances.${instanceId}`, false);
      }
      return located;
    },
    /** Remembers where an instance was built, so the next look-up asks that region first. */
    seenIn(instanceId: InstanceId, region: string) {
      lastSeen.set(instanceId, region);
    },
  };
}

export type RdsLocator = ReturnType<typeof createRdsLocator>;
