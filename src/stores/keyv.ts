import KeyvRedis from '@keyv/redis';
import { Keyv, type DeserializedData } from 'keyv';

import { fromText, toText } from '../engine/cache/codec.ts';
import { connectRedis } from './redis.ts';
import { SqliteBlobStore } from './sqlite.ts';
import { keyvUserIndex, redisUserIndex, type UserIndex } from './user-index.ts';

/** A keyv over bytes, the per-user index kept beside it, and how to let go of both. */
export interface OpenedStore {
  readonly keyv: Keyv<Uint8Array>;
  readonly index: UserIndex;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** `memory`, `sqlite://<path>` (`sqlite://:memory:` too) or `redis://…` / `rediss://…`. */
  url: string;
  namespace: string;
  /** How long to wait for the first Redis connection before failing. */
  connectTimeoutMs: number;
  /** Background errors (a dropped Redis connection being retried); operations still throw. */
  onError: (error: unknown) => void;
}

/**
 * Opens the store a cache URL names. Memory and SQLite keep values as bytes; Redis through
 * `@keyv/redis` holds strings, so values travel as base64 there (see `toText`).
 *
 * @example
 * const { keyv, index, close } = await openStore({ url: 'sqlite://cache/latents.sqlite',
 *   namespace: 'latents', connectTimeoutMs: 5000, onError: console.warn });
 */
export async function openStore(options: StoreOptions): Promise<OpenedStore> {
  const { url, namespace } = options;
  if (url === 'memory') {
    return withKeyvIndex(new Keyv<Uint8Array>({ ...bytesAsIs, namespace, throwOnErrors: true }));
  }
  if (url.startsWith('sqlite://')) {
    const path = url.slice('sqlite://'.length);
    if (!path) throw new Error(`latent cache URL ${url} names no file`);
    const store = new SqliteBlobStore(path);
    const keyv = new Keyv<Uint8Array>({ ...bytesAsIs, store, namespace, throwOnErrors: true });
    keyv.on('error', options.onError);
    return withKeyvIndex(keyv);
  }
  if (/^rediss?:\/\//.test(url)) return openRedis(options);
  throw new Error(`latent cache URL must be memory, sqlite://<path> or redis://…, not ${url}`);
}

// Keyv then hands the store `{ value, expires }` unchanged: both stores keep bytes as they are.
const bytesAsIs = { serialize: undefined, deserialize: undefined };

function withKeyvIndex(keyv: Keyv<Uint8Array>): OpenedStore {
  return { keyv, index: keyvUserIndex(keyv), close: () => keyv.disconnect() };
}

async function openRedis({
  url,
  namespace,
  connectTimeoutMs,
  onError,
}: StoreOptions): Promise<OpenedStore> {
  // Until the adapter exists (it forwards client errors to keyv), errors go to onError.
  const client = await connectRedis(url, { what: 'latent cache', connectTimeoutMs, onError });
  const store = new KeyvRedis(client, { namespace, throwOnErrors: true });
  client.off('error', onError);
  const keyv = new Keyv<Uint8Array>({
    store,
    namespace,
    // The adapter prefixes keys itself (`namespace::key`); keyv must not prefix them again.
    useKeyPrefix: false,
    serialize: toText,
    // Keyv types this generically; the values here are always bytes.
    deserialize: <Value>(text: string) => fromText(text) as DeserializedData<Value>,
    throwOnErrors: true,
  });
  keyv.on('error', onError);
  return {
    keyv,
    index: redisUserIndex(client, (key) => store.createKeyPrefix(key, namespace)),
    close: () => keyv.disconnect(),
  };
}
