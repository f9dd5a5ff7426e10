import { createClient } from '@keyv/redis';

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
