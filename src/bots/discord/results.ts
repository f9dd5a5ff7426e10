/**
 * Which job each result message shows, in keyv beside the job records: a reaction carries only
 * the message id, and the mapping must survive a restart (and be shared by every shard).
 */
import { openStore } from '../../engine/cache/stores.ts';

export interface ResultIndex {
  remember(messageId: string, jobId: string): Promise<void>;
  jobOf(messageId: string): Promise<string | undefined>;
  forget(messageId: string): Promise<void>;
  close(): Promise<void>;
}

const key = (messageId: string): string => `message:${messageId}`;
const text = new TextEncoder();
const untext = new TextDecoder();

/**
 * @example
 * const results = await openResultIndex({ url: 'sqlite://data/cache.sqlite', ttlMs, onError });
 * await results.remember(message.id, jobId);
 */
export async function openResultIndex(options: {
  url: string;
  /** As long as the job records live: a mapping to an expired record is useless. */
  ttlMs: number;
  onError: (error: unknown) => void;
}): Promise<ResultIndex> {
  const { keyv, close } = await openStore({
    url: options.url,
    namespace: 'discord',
    connectTimeoutMs: 5000,
    onError: options.onError,
  });
  return {
    async remember(messageId, jobId) {
      await keyv.set(key(messageId), text.encode(jobId), options.ttlMs);
    },
    async jobOf(messageId) {
      const bytes = await keyv.get(key(messageId));
      return bytes && untext.decode(bytes);
    },
    async forget(messageId) {
      await keyv.delete(key(messageId));
    },
    close,
  };
}
