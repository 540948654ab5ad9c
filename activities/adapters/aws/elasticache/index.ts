export { createElastiCacheClient, type ElastiCacheClientSettings } from './elasticache-client';
export { createElastiCachePlatform, type ElastiCachePlatformOptions, type EnrolledReplicationGroup } from './elasticache-cache-platform';
