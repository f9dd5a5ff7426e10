/** Queue settings for the bot facade and the worker, resolved from the configuration. */
import type { Config } from '../config.ts';

export interface QueueSettings {
  name: string;
  /** Redis of the queue and of the side keys (styles, fairness, cancellation). */
  url: string;
  concurrency: number;
  attempts: number;
  lockMs: number;
  stalledIntervalMs: number;
  maxRequestBytes: number;
  maxResultBytes: number;
  /** `cache.keyPrefix`: starts BullMQ's keys, the side keys and the shared cache's namespace. */
  keyPrefix: string;
}

/**
 * The queue settings; throws when the cache is not Redis, because in queue mode the photo
 * cache, job records and limits must be shared by every process (see docs/deployment.md).
 */
export function queueSettings(config: Config): QueueSettings {
  const isRedis = /^rediss?:\/\//.test(config.cache.url);
  if (!isRedis) {
    throw new Error(
      `queue mode needs a shared Redis cache (cache.url is ${config.cache.url}); set PASTICHE_CACHE_URL=redis://…`,
    );
  }
  const { url, ...rest } = config.queue;
  return { ...rest, url: url ?? config.cache.url, keyPrefix: config.cache.keyPrefix };
}
