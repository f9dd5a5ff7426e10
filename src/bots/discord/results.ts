/**
 * Which job each result message shows, in keyv beside the job records: a reaction carries only
 * the message id, and the mapping must survive a restart (and be shared by every shard). Beside
 * it, the little the adapter keeps of its own: whose avatar a result shows (they may delete it)
 * and each server's settings.
 */
import { openKv } from '../../stores/kv.ts';

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
  const kv = await openKv({
    url: options.url,
    keyPrefix: options.keyPrefix,
    area: 'discord',
    onError: options.onError,
  });
  return {
    remember: (messageId, jobId) => kv.setText(key(messageId), jobId, options.ttlMs),
    jobOf: (messageId) => kv.text(key(messageId)),
    async forget(messageId) {
      await kv.delete(key(messageId));
      await kv.delete(subjectKey(messageId));
    },
    rememberSubject: (messageId, userId) =>
      kv.setText(subjectKey(messageId), userId, options.ttlMs),
    subjectOf: (messageId) => kv.text(subjectKey(messageId)),
    avatarsAllowed: async (guildId) => (await kv.text(avatarsKey(guildId))) === 'on',
    // A setting, not a cache entry: kept until changed.
    setAvatarsAllowed: (guildId, allowed) =>
      kv.setText(avatarsKey(guildId), allowed ? 'on' : 'off'),
    close: () => kv.close(),
  };
}
