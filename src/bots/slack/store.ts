/**
 * What the adapter must remember across restarts, in keyv beside the job records: which
 * message holds which result (so a reaction or button on it re-rolls that job), each user's
 * latest results (the App Home lists them), the photo each user shared last in a channel
 * (offered by `/stylize` for a few minutes), the events already handled (Slack retries them),
 * and the uploaded contact sheets the App Home shows. `forgetUser` deletes what points at a
 * user's photos (the recently shared ones, found through the per-user index).
 */
import { z } from 'zod';
import { openKv } from '../../stores/kv.ts';
import type { PhotoRef } from './photos.ts';

/** How long a shared photo is offered by `/stylize` and used by `/style random`. */
const RECENT_PHOTO_MS = 10 * 60_000;

/** Slack retries an event for a few minutes (after 1 min and 5 min); an hour covers them all. */
const EVENT_MEMORY_MS = 60 * 60_000;
/** Results the App Home lists. */
export const RECENT_RESULTS = 10;

const resultMessage = z.object({
  jobId: z.string(),
  threadTs: z.string().optional(),
  /** The uploaded image, deleted with the message. */
  fileId: z.string().optional(),
});
const postedResult = z.object({ jobId: z.string(), channel: z.string(), ts: z.string() });
const postedResults = z.array(postedResult);
const recentPhoto = z.object({ url: z.string(), name: z.string(), sharedAt: z.number() });

/** A result message: its job, and the thread re-rolls of it are posted in. */
export type ResultMessage = z.infer<typeof resultMessage>;
export type RecentPhoto = PhotoRef & { sharedAt: number };
/** Where one of a user's results was posted. */
export type PostedResult = z.infer<typeof postedResult>;

export interface SlackStore {
  result(channel: string, ts: string): Promise<ResultMessage | undefined>;
  setResult(channel: string, ts: string, result: ResultMessage): Promise<void>;
  recentPhoto(channel: string, user: string): Promise<RecentPhoto | undefined>;
  setRecentPhoto(channel: string, user: string, photo: RecentPhoto): Promise<void>;
  /**
   * Deletes the user's recently shared photos in every channel (the `forget` command's part
   * for Slack). Their posted results stay listed: those are chat messages the App Home lets
   * them delete, not photos.
   */
  forgetUser(user: string): Promise<void>;
  /** The user's latest results, newest first. */
  recentResults(user: string): Promise<PostedResult[]>;
  addRecentResult(user: string, result: PostedResult): Promise<void>;
  removeRecentResult(user: string, jobId: string): Promise<void>;
  /**
   * True the first time `eventId` is claimed, false for a retry of an event already handled.
   * Check-then-set: two processes receiving the same retry at once could both run it.
   */
  claimEvent(eventId: string): Promise<boolean>;
  /** The uploaded contact sheet under `key` (pack and version), as a Slack file id. */
  sheetFile(key: string): Promise<string | undefined>;
  setSheetFile(key: string, fileId: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * @example
 * const store = await openSlackStore({ url: config.cache.url, keyPrefix: config.cache.keyPrefix, resultTtlMs: 7 * 86_400_000, onError: console.warn });
 * await store.setResult('C1', '1700000000.000100', { jobId });
 */
export async function openSlackStore(options: {
  url: string;
  /** `cache.keyPrefix`: two deployments on one Redis keep their own records. */
  keyPrefix: string;
  resultTtlMs: number;
  onError: (error: unknown) => void;
}): Promise<SlackStore> {
  const kv = await openKv({
    url: options.url,
    keyPrefix: options.keyPrefix,
    area: 'slack',
    onError: options.onError,
  });
  const read = <T>(key: string, schema: z.ZodType<T>): Promise<T | undefined> =>
    kv.json(key, schema);
  const write = (key: string, value: unknown, ttlMs: number): Promise<void> =>
    kv.setJson(key, value, ttlMs);
  return {
    result: (channel, ts) => read(`result:${channel}:${ts}`, resultMessage),
    setResult: (channel, ts, result) =>
      write(`result:${channel}:${ts}`, result, options.resultTtlMs),
    async recentPhoto(channel, user) {
      const photo = await read(`recent:${channel}:${user}`, recentPhoto);
      return photo && Date.now() - photo.sharedAt < RECENT_PHOTO_MS ? photo : undefined;
    },
    async setRecentPhoto(channel, user, photo) {
      const key = `recent:${channel}:${user}`;
      // Written before it is indexed: a crash between the two leaves an entry only its TTL ends.
      await write(key, photo, RECENT_PHOTO_MS);
      await kv.index.add(user, key, RECENT_PHOTO_MS);
    },
    async forgetUser(user) {
      for (const { key } of await kv.index.take(user)) await kv.delete(key);
    },
    recentResults: async (user) => (await read(`results:${user}`, postedResults)) ?? [],
    async addRecentResult(user, result) {
      const list = (await read(`results:${user}`, postedResults)) ?? [];
      const kept = [result, ...list.filter((r) => r.jobId !== result.jobId)];
      await write(`results:${user}`, kept.slice(0, RECENT_RESULTS), options.resultTtlMs);
    },
    async removeRecentResult(user, jobId) {
      const list = (await read(`results:${user}`, postedResults)) ?? [];
      const kept = list.filter((r) => r.jobId !== jobId);
      if (kept.length !== list.length) await write(`results:${user}`, kept, options.resultTtlMs);
    },
    async claimEvent(eventId) {
      if (await kv.has(`event:${eventId}`)) return false;
      await kv.setBytes(`event:${eventId}`, new Uint8Array([1]), EVENT_MEMORY_MS);
      return true;
    },
    sheetFile: async (key) => (await read(`sheet:${key}`, z.string())) ?? undefined,
    setSheetFile: (key, fileId) => write(`sheet:${key}`, fileId, options.resultTtlMs),
    close: () => kv.close(),
  };
}
