/**
 * Job records: what each result was made from, by hash and code (never a URL or the photo), so
 * re-roll buttons and reactions keep working after a restart. Kept in keyv under the `jobs`
 * namespace of the same store as the latent cache, for as long as the cache keeps the codes.
 */
import { z } from 'zod';
import { encoderChoice, parseStyleRef, weightPreset } from '../engine/index.ts';
import { openKv } from '../stores/kv.ts';

const unit = z.number().min(0).max(1);

const face = z.discriminatedUnion('kind', [
  /** The sha256 of the photo: the key of its content code in the latent cache. */
  z.object({ kind: z.literal('photo'), key: z.string() }),
  /** A random portrait: the seed of its content code. */
  z.object({ kind: z.literal('random'), seed: z.string() }),
  /** The author ran `forget`: the photo's key was removed. */
  z.object({ kind: z.literal('forgotten') }),
]);

const style = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('exemplar'), id: z.number().int(), name: z.string() }),
  z.object({ kind: z.literal('sampled'), structureSeed: z.string(), colorSeed: z.string() }),
  /** A user's exemplar image; its key is dropped by `forget` (no re-roll needs it). */
  z.object({ kind: z.literal('image'), key: z.string().optional() }),
  /** Any other style (a fusion), by its style reference (style-ref.ts). */
  z.object({ kind: z.literal('reference'), reference: z.string() }),
]);

const jobRecord = z.object({
  version: z.literal(1),
  jobId: z.string(),
  userId: z.string(),
  platform: z.enum(['playground', 'discord', 'slack', 'cli']),
  channel: z.string(),
  serverId: z.string().optional(),
  pack: z.string(),
  face,
  style,
  /** The options as the user gave them; unset ones follow the pack's defaults. */
  options: z.object({
    structure: unit.optional(),
    color: unit.optional(),
    preserveColor: z.boolean(),
    size: z.number().int().positive().optional(),
    truncation: unit.optional(),
    preset: weightPreset.optional(),
    reconstruct: z.boolean().optional(),
    /** Pasted back into the whole photo; every face of it with `faces: all`. */
    output: z.enum(['crop', 'photo']).optional(),
    faces: z.enum(['largest', 'all']).optional(),
    /**
     * The encoder that made the face's code (what the engine reports, not a choice the user
     * made): a re-render of the result uses the same one, so it reads the same cached code even
     * after the server's default encoder changed. Absent for a random face and older records.
     */
    encoder: encoderChoice.optional(),
  }),
  /** A grid or strip: each tile's style reference, in layout order (for "keep tile n"). */
  tiles: z.array(z.string()).optional(),
  /** ISO 8601. */
  createdAt: z.string(),
  /** The result this one re-rolled. */
  parentJobId: z.string().optional(),
});

/**
 * One result's inputs.
 *
 * @example
 * { jobId, userId, pack: 'cartoon', face: { kind: 'photo', key: sha256 },
 *   style: { kind: 'exemplar', id: 3, name: 'Cartoons_00038_07.jpg' }, … }
 */
export type JobRecord = z.infer<typeof jobRecord>;
export type RecordStyle = JobRecord['style'];

/** Job records plus the few per-user and per-pack values that live beside them. */
export interface RecordStore {
  put(record: JobRecord, owner: string): Promise<void>;
  get(jobId: string): Promise<JobRecord | undefined>;
  delete(jobId: string): Promise<boolean>;
  /** The cache key of the last photo `owner` sent, for commands given no photo. */
  lastPhoto(owner: string): Promise<string | undefined>;
  setLastPhoto(owner: string, photoKey: string): Promise<void>;
  /** Removes every photo reference of `owner` (records keep the rest); returns records changed. */
  forget(owner: string): Promise<number>;
  /** Opaque bytes such as contact sheets, shared by every process on the store. */
  getBlob(key: string): Promise<Uint8Array | undefined>;
  setBlob(key: string, bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

const photoKey = z.string().regex(/^[0-9a-f]{64}$/);
const jobKey = (jobId: string): string => `job:${jobId}`;
const lastKey = (owner: string): string => `last:${owner}`;
const blobKey = (key: string): string => `blob:${key}`;

/**
 * Opens the record store on a keyv URL (`memory`, `sqlite://…`, `redis://…`).
 *
 * @example
 * const records = await openRecords({ url: 'sqlite://data/cache.sqlite', ttlMs: 7 * 86_400_000 });
 * const record = await records.get(jobId);
 */
export async function openRecords(options: {
  url: string;
  ttlMs: number;
  onError: (error: unknown) => void;
  /** `cache.keyPrefix`: records live in the `<keyPrefix>:jobs` namespace. Default `pastiche`. */
  keyPrefix?: string;
}): Promise<RecordStore> {
  const { ttlMs } = options;
  const kv = await openKv({
    url: options.url,
    keyPrefix: options.keyPrefix ?? 'pastiche',
    area: 'jobs',
    onError: options.onError,
  });

  // Records outlive deployments: one this version cannot read is a miss, not a crash.
  const read = (jobId: string): Promise<JobRecord | undefined> => kv.json(jobKey(jobId), jobRecord);
  const write = async (record: JobRecord, owner: string, ttl: number): Promise<void> => {
    await kv.setJson(jobKey(record.jobId), record, ttl);
    // Indexed per user, so `forget` finds the records without scanning the store.
    await kv.index.add(owner, jobKey(record.jobId), ttl);
  };

  return {
    put: (record, owner) => write(record, owner, ttlMs),
    get: read,
    delete: (jobId) => kv.delete(jobKey(jobId)),
    async lastPhoto(owner) {
      const text = await kv.text(lastKey(owner));
      // A photo key is a sha256; anything else in the store is not one of ours.
      const key = text === undefined ? undefined : photoKey.safeParse(text);
      return key?.success ? key.data : undefined;
    },
    setLastPhoto: (owner, photoKey) => kv.setText(lastKey(owner), photoKey, ttlMs),
    async forget(owner) {
      await kv.delete(lastKey(owner));
      let changed = 0;
      const now = Date.now();
      for (const { key, expires } of await kv.index.take(owner)) {
        const record = key.startsWith('job:') ? await read(key.slice(4)) : undefined;
        if (!record || expires <= now) continue;
        const scrubbed = scrub(record);
        // Re-indexed even when unchanged: `take` dropped the whole index.
        await write(scrubbed, owner, expires - now);
        if (scrubbed !== record) changed++;
      }
      return changed;
    },
    getBlob: (key) => kv.bytes(blobKey(key)),
    setBlob: (key, bytes) => kv.setBytes(blobKey(key), bytes, ttlMs),
    close: () => kv.close(),
  };
}

/** The record without what derives from the author's photos; the same object if there is none. */
function scrub(record: JobRecord): JobRecord {
  const photo = record.face.kind === 'photo';
  const image =
    (record.style.kind === 'image' && record.style.key !== undefined) ||
    (record.style.kind === 'reference' && namesImage(record.style.reference));
  const tiles = record.tiles?.some(namesImage) ?? false;
  if (!photo && !image && !tiles) return record;
  return {
    ...record,
    face: photo ? { kind: 'forgotten' } : record.face,
    style: image ? { kind: 'image' } : record.style,
    ...(record.tiles && { tiles: record.tiles.map((t) => (namesImage(t) ? '' : t)) }),
  };
}

/** Whether a style reference names someone's exemplar image (its key derives from the image). */
function namesImage(reference: string): boolean {
  try {
    const ref = parseStyleRef(reference);
    if (ref.kind !== 'style') return false;
    const s = ref.style;
    return s.kind === 'blend'
      ? s.a.kind === 'cached-image' || s.b.kind === 'cached-image'
      : s.kind === 'cached-image';
  } catch {
    return false;
  }
}
