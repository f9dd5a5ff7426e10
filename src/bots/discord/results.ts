/**
 * Which job each result message shows, in keyv beside the job records: a reaction carries only
 * the message id, and the mapping must survive a restart (and be shared by every shard). Beside
 * it, the little the adapter keeps of its own: whose avatar a result shows (they may delete it)
 * and each server's settings.
 */
import { openStore } from '../../engine/index.ts';

export interface ResultIndex {
  remember(messageId: string, jobId: string): Promise<void>;
  jobOf(messageId: string): Promise<string | undefined>;
  forget(messageId: string): Promise<void>;
  /** The member whose avatar a result shows, when someone else asked for it. */
  rememberSubject(messageId: string, userId: string): Promise<void>;
  subjectOf(messageId: string): Promise<string | undefined>;
  /** Whether members may stylize each other's avatars in this server (off unless turned on). */
  avatarsAllowed(guildId: string): Promise<boolean>;
  setAvatarsAllowed(guildId: string, allowed: boolean): Promise<void>;
  close(): Promise<void>;
}

const key = (messageId: string): string => `message:${messageId}`;
const subjectKey = (messageId: string): string => `subject:${messageId}`;
const avatarsKey = (guildId: string): string => `guild:${guildId}:avatars`;
const text = new TextEncoder();
const untext = new TextDecoder();

/**
 * @example
 * const results = await openResultIndex({ url: 'sqlite://data/cache.sqlite', keyPrefix: 'pastiche', ttlMs, onError });
 * await results.remember(message.id, jobId);
 */
export async function openResultIndex(options: {
  url: string;
  /** `cache.keyPrefix`: two deployments on one Redis keep their own mappings. */
  keyPrefix: string;
  /** As long as the job records live: a mapping to an expired record is useless. */
  ttlMs: number;
  onError: (error: unknown) => void;
}): Promise<ResultIndex> {
  const { keyv, close } = await openStore({
    url: options.url,
    namespace: `${options.keyPrefix}:discord`,
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
      await keyv.delete(subjectKey(messageId));
    },
    async rememberSubject(messageId, userId) {
      await keyv.set(subjectKey(messageId), text.encode(userId), options.ttlMs);
    },
    async subjectOf(messageId) {
      const bytes = await keyv.get(subjectKey(messageId));
      return bytes && untext.decode(bytes);
    },
    async avatarsAllowed(guildId) {
      const bytes = await keyv.get(avatarsKey(guildId));
      return bytes !== undefined && untext.decode(bytes) === 'on';
    },
    async setAvatarsAllowed(guildId, allowed) {
      // A setting, not a cache entry: kept until changed.
      await keyv.set(avatarsKey(guildId), text.encode(allowed ? 'on' : 'off'));
    },
    close,
  };
}
