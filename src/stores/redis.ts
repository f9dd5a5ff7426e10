/**
 * The Redis connections, opened only here. Two clients because two libraries insist on their own:
 * `@keyv/redis` (the stores) and `rate-limiter-flexible` share node-redis ({@link connectRedis});
 * BullMQ (the queue) takes ioredis ({@link queueRedis}). Both fail loudly and reconnect the same way.
 */
import { createClient } from '@keyv/redis';
import { Redis } from 'ioredis';

/**
 * Connects to Redis so that a wrong URL fails at once with a message naming `what` (instead of
 * retrying forever in the background), and a connection lost later is retried with backoff.
 * Errors before the caller attaches its own handling go to `onError`.
 */
export async function connectRedis(
  url: string,
  options: { what: string; connectTimeoutMs: number; onError: (error: unknown) => void },
) {
  let connected = false;
  const client = createClient({
    url,
    socket: {
      connectTimeout: options.connectTimeoutMs,
      reconnectStrategy: (retries: number, cause: Error) =>
        connected ? Math.min(100 * 2 ** retries, 2000) : cause,
    },
  });
  client.on('error', options.onError);
  try {
    await client.connect();
  } catch (error) {
    if (client.isOpen) client.destroy();
    throw new Error(
      `${options.what}: Redis at ${redactUrl(url)} is unreachable (${String(error)})`,
      {
        cause: error,
      },
    );
  }
  connected = true;
  return client;
}

/** The URL without its credentials, for messages. */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//…@');
}

/**
 * An ioredis connection for the queue side (BullMQ's side keys: styles, fairness, cancellation).
 * `blocking`: commands wait for a reconnect instead of failing (a worker has time; the bot fails
 * a user's command after a few retries rather than hanging it). Without an error listener
 * ioredis prints "Unhandled error event" on every reconnect attempt while Redis is down; it
 * reconnects on its own, so `onError` hears each once.
 */
export function queueRedis(
  url: string,
  options: { blocking: boolean; onError: (error: unknown) => void },
): Redis {
  const redis = new Redis(url, queueConnection(url, options.blocking));
  redis.on('error', options.onError);
  return redis;
}

/** BullMQ's `connection` option, with the same retry policy as {@link queueRedis}. */
export function queueConnection(
  url: string,
  blocking: boolean,
): { url: string; maxRetriesPerRequest: number | null } {
  return { url, maxRetriesPerRequest: blocking ? null : 3 };
}
