import { createHash } from 'node:crypto';
import type Redis from 'ioredis';

/**
 * What the demo application keeps in Redis (seed 002's cache layer): signed-in sessions (hashes with a
 * TTL, under session:*), user profiles and cached balances. Deterministic per seed.
 */
export async function seedCacheDataset(redis: Redis, options: { sessions: number; users: number; seed?: number }): Promise<void> {
  const seed = options.seed ?? 1;
  const pipeline = redis.pipeline();
  for (let i = 1; i <= options.sessions; i++) {
    const token = createHash('sha256').update(`${seed}:session:${i}`).digest('hex').slice(0, 32);
    pipeline.hset(`session:${token}`, { userId: String(((i * 7) % options.users) + 1), csrf: token.slice(0, 12), createdAt: '2026-11-23T03:00:00Z' });
    pipeline.expire(`session:${token}`, 3600);
  }
  for (let u = 1; u <= options.users; u++) pipeline.set(`user:${u}:profile`, JSON.stringify({ id: u, plan: u % 3 ? 'basic' : 'premium' }));
  await pipeline.exec();
}
