import type { Keyv } from 'keyv';

import {
  CacheFormatError,
  decodeKeys,
  encodeKeys,
  type IndexedKey,
} from '../engine/cache/codec.ts';

/**
 * Which cache keys each user created, so `forget(userId)` can delete them without scanning the
 * store. Lives in the same store as the entries it lists. Each key is kept with its entry's expiry
 * and dropped from the index once that has passed, so a busy user's index stays bounded.
 *
 * Order of operations (in `latents.ts`): the entry is written first, then its key is added here.
 * A crash between the two leaves an unindexed entry that only its TTL removes; the opposite order
 * could let a concurrent `forget` drop the key before the entry lands, leaving the entry behind
 * unindexed. A `forget` racing with the same user's `set` may therefore leave that one entry,
 * still indexed, for the next `forget` (or the TTL).
 */
export interface UserIndex {
  /** Records that `userId` created `key`, whose entry lives `ttlMs`. */
  add(userId: string, key: string, ttlMs: number): Promise<void>;
  /** Returns the user's keys and drops the index, as one step where the store allows it. */
  take(userId: string): Promise<IndexedKey[]>;
  /** Drops every user's index (the entries themselves are the caller's to clear). */
  clear(): Promise<void>;
}

/** The node-redis commands the Redis index uses (one node; a cluster would need hash tags). */
export interface RedisSortedSetCommands {
  multi(): RedisMulti;
  scan(
    cursor: string,
    options: { MATCH: string; TYPE: string; COUNT: number },
  ): Promise<{ cursor: string; keys: string[] }>;
  unlink(keys: string[]): Promise<number>;
}
interface RedisMulti {
  zAdd(key: string, member: { score: number; value: string }): RedisMulti;
  zRemRangeByScore(key: string, min: number | string, max: number | string): RedisMulti;
  zRangeWithScores(key: string, min: number, max: number): RedisMulti;
  pExpire(key: string, ms: number): RedisMulti;
  del(key: string): RedisMulti;
  exec(): Promise<unknown[]>;
}

/**
 * Redis: a sorted set per user, scored by expiry. Each of `add` and `take` is one MULTI, so
 * several bot or worker processes can add and forget concurrently without losing a key.
 *
 * @example
 * const index = redisUserIndex(client, (key) => `pastiche::${key}`);
 */
export function redisUserIndex(
  client: RedisSortedSetCommands,
  redisKey: (key: string) => string,
): UserIndex {
  return {
    async add(userId, key, ttlMs) {
      const set = redisKey(indexKey(userId));
      const now = Date.now();
      await client
        .multi()
        .zAdd(set, { score: now + ttlMs, value: key })
        .zRemRangeByScore(set, '-inf', now)
        // Refreshed on every add: the set then lives as long as the newest entry it names.
        .pExpire(set, ttlMs)
        .exec();
    },
    async take(userId) {
      const set = redisKey(indexKey(userId));
      const [members] = await client.multi().zRangeWithScores(set, 0, -1).del(set).exec();
      if (!Array.isArray(members) || !members.every(isScored)) {
        throw new CacheFormatError(`unexpected ZRANGE reply for ${set}`);
      }
      return members.map((m) => ({ key: m.value, expires: m.score }));
    },
    async clear() {
      // Needed because @keyv/redis's clear() only scans string keys.
      const MATCH = redisKey(indexKey('*'));
      let cursor = '0';
      do {
        const page = await client.scan(cursor, { MATCH, TYPE: 'zset', COUNT: 1000 });
        if (page.keys.length > 0) await client.unlink(page.keys);
        cursor = page.cursor;
      } while (cursor !== '0');
    },
  };
}

/**
 * Any other keyv store: the index is itself an entry (a key list), read-modify-written under a
 * per-user lock. The lock is per process, so this is exact for the memory store and for a SQLite
 * file used by one process, the deployments that use these stores. Two processes sharing one
 * SQLite file could lose an index update (the entry then survives `forget` until its TTL);
 * deployments with several processes use Redis, whose index above has no such race.
 *
 * @example
 * const index = keyvUserIndex(keyv);
 */
export function keyvUserIndex(keyv: Keyv<Uint8Array>): UserIndex {
  const locks = new Map<string, Promise<unknown>>();

  // Chains work per user; the map entry is dropped once the chain is idle, so it cannot grow.
  function locked<T>(userId: string, work: () => Promise<T>): Promise<T> {
    const next = (locks.get(userId) ?? Promise.resolve()).then(work, work);
    const tail = next.catch(() => undefined);
    locks.set(userId, tail);
    void tail.then(() => {
      if (locks.get(userId) === tail) locks.delete(userId);
    });
    return next;
  }

  async function read(userId: string): Promise<IndexedKey[]> {
    const bytes = await keyv.get(indexKey(userId));
    if (!bytes) return [];
    try {
      return decodeKeys(bytes);
    } catch (error) {
      // A damaged index can only be dropped; its entries still expire by TTL.
      if (error instanceof CacheFormatError) return [];
      throw error;
    }
  }

  return {
    add: (userId, key, ttlMs) =>
      locked(userId, async () => {
        const now = Date.now();
        const keys = (await read(userId)).filter((k) => k.key !== key && k.expires >= now);
        keys.push({ key, expires: now + ttlMs });
        await keyv.set(indexKey(userId), encodeKeys(keys), ttlMs);
      }),
    take: (userId) =>
      locked(userId, async () => {
        const keys = await read(userId);
        await keyv.delete(indexKey(userId));
        return keys;
      }),
    // The index entries live in the keyv namespace, which the caller's keyv.clear() empties.
    clear: async () => undefined,
  };
}

function isScored(m: unknown): m is { value: string; score: number } {
  if (typeof m !== 'object' || m === null || !('value' in m) || !('score' in m)) return false;
  return typeof m.value === 'string' && typeof m.score === 'number';
}

function indexKey(userId: string): string {
  return `user:${userId}`;
}
