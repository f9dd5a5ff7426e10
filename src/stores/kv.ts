/**
 * The one store wrapper the command layer and the adapters keep their records in: a keyv area
 * (`<cache.keyPrefix>:<area>`) on the deployment's cache URL, holding JSON, text or bytes.
 * Job records, Slack's message index and Discord's result index are all one of these, so the
 * key prefix, the connection and the encoding are decided here once.
 *
 * Values are UTF-8 bytes underneath (the stores keep bytes; see `keyv.ts`), so what earlier
 * versions wrote reads back unchanged.
 */
import type { z } from 'zod';
import { openStore } from './keyv.ts';
import type { UserIndex } from './user-index.ts';

export interface KvOptions {
  /** `memory`, `sqlite://<path>` or `redis://…` (`cache.url`). */
  url: string;
  /** `cache.keyPrefix`: two deployments on one Redis keep their own keys. */
  keyPrefix: string;
  /** Which part of the deployment the keys belong to (`jobs`, `slack`, `discord`). */
  area: string;
  /** Background errors (a dropped Redis connection being retried); operations still throw. */
  onError: (error: unknown) => void;
  /** How long to wait for the first Redis connection. Default 5 s. */
  connectTimeoutMs?: number;
}

export interface Kv {
  /** The value under `key` when it parses as `schema`; a record this version cannot read is a miss. */
  json<T>(key: string, schema: z.ZodType<T>): Promise<T | undefined>;
  /** Without `ttlMs` the value is kept until changed (a setting, not a cache entry). */
  setJson(key: string, value: unknown, ttlMs?: number): Promise<void>;
  text(key: string): Promise<string | undefined>;
  setText(key: string, value: string, ttlMs?: number): Promise<void>;
  bytes(key: string): Promise<Uint8Array | undefined>;
  setBytes(key: string, value: Uint8Array, ttlMs?: number): Promise<void>;
  has(key: string): Promise<boolean>;
  delete(key: string): Promise<boolean>;
  /** Keys kept per user, so `forget` finds them without scanning the store. */
  readonly index: UserIndex;
  close(): Promise<void>;
}

/** The keyv namespace of an area: `cache.keyPrefix` applies to every key. */
export function kvNamespace(keyPrefix: string, area: string): string {
  return `${keyPrefix}:${area}`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * @example
 * const kv = await openKv({ url: config.cache.url, keyPrefix: config.cache.keyPrefix, area: 'slack', onError });
 * await kv.setJson(`result:${channel}:${ts}`, { jobId }, ttlMs);
 * const result = await kv.json(`result:${channel}:${ts}`, resultMessage);
 */
export async function openKv(options: KvOptions): Promise<Kv> {
  const { keyv, index, close } = await openStore({
    url: options.url,
    namespace: kvNamespace(options.keyPrefix, options.area),
    connectTimeoutMs: options.connectTimeoutMs ?? 5000,
    onError: options.onError,
  });
  const text = async (key: string): Promise<string | undefined> => {
    const bytes = await keyv.get(key);
    return bytes && decoder.decode(bytes);
  };
  const setBytes = async (key: string, value: Uint8Array, ttlMs?: number): Promise<void> => {
    await keyv.set(key, value, ttlMs);
  };
  return {
    async json(key, schema) {
      const raw = await text(key);
      if (raw === undefined) return undefined;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        return undefined;
      }
      const parsed = schema.safeParse(value);
      return parsed.success ? parsed.data : undefined;
    },
    setJson: (key, value, ttlMs) => setBytes(key, encoder.encode(JSON.stringify(value)), ttlMs),
    text,
    setText: (key, value, ttlMs) => setBytes(key, encoder.encode(value), ttlMs),
    bytes: (key) => keyv.get(key),
    setBytes,
    has: (key) => keyv.has(key),
    delete: (key) => keyv.delete(key),
    index,
    close,
  };
}
