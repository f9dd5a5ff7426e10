import {
  CacheFormatError,
  decodeContent,
  decodeStyle,
  encodeContent,
  encodeStyle,
} from './codec.ts';
import { openStore } from '../../stores/keyv.ts';

/** Where the face was found and how it was cropped, in photo coordinates. */
export interface Alignment {
  /** The alignment quad's 4 corners, [x, y] each. */
  quad: number[][];
  /** The chosen face's box, [x, y, width, height]. */
  box: number[];
  /** 68 landmarks, [x, y] each. */
  landmarks: number[][];
  /** Faces found in the photo; the largest was used. */
  faceCount: number;
  /** The quad's side length before resampling. */
  qsize: number;
}

/** A photo's encoding: the z+ content code, [nLatent, styleDim] row-major, and its alignment. */
export interface ContentEntry {
  code: Float32Array;
  nLatent: number;
  styleDim: number;
  alignment: Alignment;
}

/** Where a style code came from: pack, seed, exemplar photo hash… Flat, so it stays JSON-safe. */
export type StyleCodeMeta = Readonly<Record<string, string | number | boolean | null>>;

/** A sampled or user-supplied exemplar code that a result used. */
export interface StyleCodeEntry {
  code: Float32Array;
  meta: StyleCodeMeta;
}

/** The code dimensions a pack expects: an entry of any other shape is not usable with it. */
export interface CodeShape {
  nLatent: number;
  styleDim: number;
}

export interface LatentCacheOptions {
  /** `memory`, `sqlite://<path>` or `redis://…`; default `sqlite://data/latents.sqlite`. */
  url?: string;
  /** Entry lifetime; default 7 days. Each `set` starts it again. */
  ttlMs?: number;
  /** Key prefix, so several caches (or test runs) can share one store; default `latents`. */
  namespace?: string;
  /** Default 5 s: how long the first Redis connection may take before `createLatentCache` fails. */
  connectTimeoutMs?: number;
  /** Background store errors (a Redis reconnect); failed operations throw regardless. */
  onError?: (error: unknown) => void;
  /** Told of each entry dropped as unusable (damaged, another layout, wrong shape for the pack). */
  onRejected?: (key: string, reason: string) => void;
}

/** The latent cache: photo encodings and style codes, each recorded against the user who made it. */
export interface LatentCache {
  /**
   * The cached encoding, or undefined. With `expected`, an entry of another shape, with a
   * non-finite value or an implausible alignment is deleted and counted as rejected: a miss.
   */
  getContent(
    photoSha256: string,
    encoderChecksum: string,
    expected?: CodeShape,
  ): Promise<ContentEntry | undefined>;
  setContent(
    photoSha256: string,
    encoderChecksum: string,
    entry: ContentEntry,
    userId: string,
  ): Promise<void>;
  /** Like {@link getContent}: with `expected`, a code of another length or non-finite is a miss. */
  getStyleCode(key: string, expected?: CodeShape): Promise<StyleCodeEntry | undefined>;
  setStyleCode(key: string, code: Float32Array, meta: StyleCodeMeta, userId: string): Promise<void>;
  /**
   * Keeps a photo's bytes for `ttlMs` (short: `privacy.keepPhotosMinutes`), so pasting a later
   * result back into it needs no new upload. Kept per user: another user's request never finds it.
   */
  setPhoto(photoSha256: string, bytes: Uint8Array, userId: string, ttlMs: number): Promise<void>;
  getPhoto(photoSha256: string, userId: string): Promise<Uint8Array | undefined>;
  deletePhoto(photoSha256: string, userId: string): Promise<boolean>;
  /**
   * Deletes every entry `userId` stored, kept photos included, and returns how many codes (not
   * photos) had not expired. An entry two users
   * stored (the same photo) goes too: it derives from the forgetting user's photo, and the other
   * user only loses a cache hit.
   */
  forget(userId: string): Promise<number>;
  /** Deletes everything under this cache's namespace. */
  clear(): Promise<void>;
  /** Entries dropped as unusable since the cache was opened, for the engine's metrics. */
  readonly rejected: number;
  close(): Promise<void>;
}

const DEFAULT_TTL_MS = 7 * 24 * 3600 * 1000;

/** The latent cache's namespace under a deployment's key prefix (`cache.keyPrefix`). */
export const latentNamespace = (keyPrefix: string): string => `${keyPrefix}:latents`;

/**
 * Opens the latent cache: keyed by sha256 of the photo bytes + the encoder pack's checksum, so a
 * re-roll or a re-render never runs the encoder again. Values are stored as bytes (see `codec.ts`).
 *
 * @example
 * const cache = await createLatentCache({ url: 'redis://127.0.0.1:6379' });
 * const hit = await cache.getContent(sha, pack.checksum);
 * if (!hit) await cache.setContent(sha, pack.checksum, await encode(photo), userId);
 * await cache.forget(userId);
 */
export async function createLatentCache(options: LatentCacheOptions = {}): Promise<LatentCache> {
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  if (!(Number.isFinite(ttlMs) && ttlMs > 0)) {
    throw new RangeError(`ttlMs must be a positive number of milliseconds, not ${ttlMs}`);
  }
  const { keyv, index, close } = await openStore({
    url: options.url ?? 'sqlite://data/latents.sqlite',
    namespace: options.namespace ?? 'latents',
    connectTimeoutMs: options.connectTimeoutMs ?? 5000,
    onError: options.onError ?? (() => undefined),
  });

  let rejected = 0;
  async function read<T>(key: string, decode: (bytes: Uint8Array) => T): Promise<T | undefined> {
    let bytes: Uint8Array | undefined;
    try {
      bytes = await keyv.get(key);
      return bytes && decode(bytes);
    } catch (error) {
      // An entry from another layout version, damaged, or not of the pack's shape: a miss is
      // always a safe answer, and deleting it stops every later read from failing again.
      if (!(error instanceof CacheFormatError)) throw error;
      rejected++;
      options.onRejected?.(key, error.message);
      await keyv.delete(key);
      return undefined;
    }
  }

  async function write(key: string, bytes: Uint8Array, userId: string): Promise<void> {
    if (!userId) throw new RangeError('userId must not be empty');
    // Entry first, then the index: see user-index.ts for the race this order accepts.
    await keyv.set(key, bytes, ttlMs);
    await index.add(userId, key, ttlMs);
  }

  // Async methods throughout, so bad input rejects like any other failure instead of throwing.
  return {
    async getContent(sha, checksum, expected) {
      return read(contentKey(sha, checksum), (bytes) => {
        const entry = decodeContent(bytes);
        if (expected) checkContent(entry, expected);
        return entry;
      });
    },
    async setContent(sha, checksum, entry, userId) {
      await write(contentKey(sha, checksum), encodeContent(entry), userId);
    },
    async getStyleCode(key, expected) {
      return read(styleKey(key), (bytes) => {
        const entry = decodeStyle(bytes);
        if (expected) checkCode(entry.code, expected);
        return entry;
      });
    },
    async setStyleCode(key, code, meta, userId) {
      await write(styleKey(key), encodeStyle({ code, meta }), userId);
    },
    async setPhoto(sha, bytes, userId, ttl) {
      if (!(Number.isFinite(ttl) && ttl > 0)) throw new RangeError(`photo ttl ${ttl} ms`);
      const key = photoKey(sha, userId);
      await keyv.set(key, bytes, ttl);
      // Indexed for the codes' lifetime, not the photo's minutes: an index lives as long as its
      // last addition, and must outlive every code and photo it names (an index entry for a
      // photo that already expired costs `forget` one delete of nothing).
      await index.add(userId, key, Math.max(ttl, ttlMs));
    },
    async getPhoto(sha, userId) {
      return keyv.get(photoKey(sha, userId));
    },
    async deletePhoto(sha, userId) {
      return keyv.delete(photoKey(sha, userId));
    },
    async forget(userId) {
      const keys = await index.take(userId);
      if (keys.length > 0) await keyv.deleteMany(keys.map((k) => k.key));
      const now = Date.now();
      return keys.filter((k) => k.expires >= now && !k.key.startsWith(PHOTO_PREFIX)).length;
    },
    async clear() {
      await keyv.clear();
      await index.clear();
    },
    get rejected() {
      return rejected;
    },
    close,
  };
}

/** A code the pack can use: nLatent × styleDim finite values. */
function checkCode(code: Float32Array, { nLatent, styleDim }: CodeShape): void {
  if (code.length !== nLatent * styleDim) {
    throw new CacheFormatError(
      `code of ${code.length} values, the pack needs ${nLatent}×${styleDim}`,
    );
  }
  if (!code.every(Number.isFinite)) throw new CacheFormatError('code holds NaN or infinity');
}

/** The code as {@link checkCode}, and an alignment the page could draw (finite, plausible). */
function checkContent(entry: ContentEntry, expected: CodeShape): void {
  if (entry.nLatent !== expected.nLatent || entry.styleDim !== expected.styleDim) {
    throw new CacheFormatError(
      `entry is ${entry.nLatent}×${entry.styleDim}, the pack needs ${expected.nLatent}×${expected.styleDim}`,
    );
  }
  checkCode(entry.code, expected);
  const { quad, box, landmarks, faceCount, qsize } = entry.alignment;
  const points = (rows: number[][], count: number): boolean =>
    rows.length === count && rows.every((r) => r.length === 2 && r.every(Number.isFinite));
  const sane =
    points(quad, 4) &&
    (landmarks.length === 0 || points(landmarks, 68)) &&
    box.length === 4 &&
    box.every(Number.isFinite) &&
    Number.isFinite(qsize) &&
    faceCount <= 10_000;
  if (!sane) throw new CacheFormatError('alignment is not a face alignment');
}

function contentKey(photoSha256: string, encoderChecksum: string): string {
  if (!/^[0-9a-f]{64}$/.test(photoSha256)) {
    throw new RangeError(`photoSha256 must be 64 lowercase hex digits, got "${photoSha256}"`);
  }
  if (!encoderChecksum) throw new RangeError('encoderChecksum must not be empty');
  return `content:${photoSha256}:${encoderChecksum}`;
}

const PHOTO_PREFIX = 'photo:';

function photoKey(photoSha256: string, userId: string): string {
  if (!/^[0-9a-f]{64}$/.test(photoSha256)) {
    throw new RangeError(`photoSha256 must be 64 lowercase hex digits, got "${photoSha256}"`);
  }
  if (!userId) throw new RangeError('userId must not be empty');
  return `${PHOTO_PREFIX}${photoSha256}:${userId}`;
}

function styleKey(key: string): string {
  if (!key) throw new RangeError('style key must not be empty');
  return `style:${key}`;
}
