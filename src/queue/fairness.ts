/**
 * Per-user fairness across workers without BullMQ Pro's groups: a job's BullMQ priority is the
 * number of jobs its user has waiting (1 for the first, 2 for the second, …). BullMQ runs lower
 * priorities first and FIFO within one, so every user's first waiting job runs before anyone's
 * second: round robin between users, whichever bot shard enqueued and whichever worker pulls.
 * The count lives in one Redis hash; the worker decrements when a job leaves the queue.
 */
import type { Redis } from 'ioredis';

/** BullMQ's largest priority (2^21). */
const MAX_PRIORITY = 2_097_152;
/** A count leaked by a crashed bot disappears after a day without jobs. */
const TTL_S = 86_400;

/** Counts one more waiting job for `user`; returns the BullMQ priority it should get. */
export async function claimPriority(
  redis: Redis,
  key: string,
  user: string,
  requested = 0,
): Promise<number> {
  const [[, waiting]] = (await redis.multi().hincrby(key, user, 1).expire(key, TTL_S).exec()) as [
    [Error | null, number],
  ];
  // A request's own priority (higher first, as the local scheduler reads it) moves it forward.
  return Math.min(MAX_PRIORITY, Math.max(1, waiting - requested));
}

/** One job of `user` left the queue (started, or was removed). */
export async function releasePriority(redis: Redis, key: string, user: string): Promise<void> {
  const left = await redis.hincrby(key, user, -1);
  // A retried job is released twice (it starts twice); never keep a negative count.
  if (left <= 0) await redis.hdel(key, user);
}
