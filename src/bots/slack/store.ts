/**
 * What the adapter must remember across restarts, in keyv beside the job records: which
 * message holds which result (so a reaction on it re-rolls that job), and the photo each user
 * shared last in a channel (offered by `/stylize` for a few minutes).
 */
import { z } from 'zod';
import { openStore } from '../../engine/cache/stores.ts';
import type { PhotoRef } from './photos.ts';

/** How long a shared photo is offered by `/stylize` and used by `/style random`. */
const RECENT_PHOTO_MS = 10 * 60_000;

const resultMessage = z.object({ jobId: z.string(), threadTs: z.string().optional() });
const recentPhoto = z.object({ url: z.string(), name: z.string(), sharedAt: z.number() });

/** A result message: its job, and the thread re-rolls of it are posted in. */
export type ResultMessage = z.infer<typeof resultMessage>;
export type RecentPhoto = PhotoRef & { sharedAt: number };

export interface SlackStore {
  result(channel: string, ts: string): Promise<ResultMessage | undefined>;
  setResult(channel: string, ts: string, result: ResultMessage): Promise<void>;
  recentPhoto(channel: string, user: string): Promise<RecentPhoto | undefined>;
  setRecentPhoto(channel: string, user: string, photo: RecentPhoto): Promise<void>;
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * @example
 * const store = await openSlackStore({ url: config.cache.url, resultTtlMs: 7 * 86_400_000, onError: console.warn });
 * await store.setResult('C1', '1700000000.000100', { jobId });
 */
export async function openSlackStore(options: {
  url: string;
  resultTtlMs: number;
  onError: (error: unknown) => void;
}): Promise<SlackStore> {
  const store = await openStore({
    url: options.url,
    namespace: 'slack',
    connectTimeoutMs: 5000,
    onError: options.onError,
  });
  const { keyv } = store;
  const read = async <T>(key: string, schema: z.ZodType<T>): Promise<T | undefined> => {
    const bytes = await keyv.get(key);
    if (!bytes) return undefined;
    try {
      const parsed = schema.safeParse(JSON.parse(decoder.decode(bytes)));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  };
  const write = async (key: string, value: unknown, ttlMs: number): Promise<void> => {
    await keyv.set(key, encoder.encode(JSON.stringify(value)), ttlMs);
  };
  return {
    result: (channel, ts) => read(`result:${channel}:${ts}`, resultMessage),
    setResult: (channel, ts, result) =>
      write(`result:${channel}:${ts}`, result, options.resultTtlMs),
    async recentPhoto(channel, user) {
      const photo = await read(`recent:${channel}:${user}`, recentPhoto);
      return photo && Date.now() - photo.sharedAt < RECENT_PHOTO_MS ? photo : undefined;
    },
    setRecentPhoto: (channel, user, photo) =>
      write(`recent:${channel}:${user}`, photo, RECENT_PHOTO_MS),
    close: () => store.close(),
  };
}
