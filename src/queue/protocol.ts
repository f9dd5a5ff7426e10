/**
 * What travels through Redis between the bot (`RemoteEngine`) and `pastiche worker`: requests
 * and results as JSON, bytes as base64 (BullMQ stores job data and return values as JSON), and
 * errors as a tagged string so a UserError keeps its code across processes.
 *
 * Redis is shared and writable by anything that can reach it, so every value read back from it
 * is validated here with zod before use: a bad one is an error for that one job (or a logged,
 * ignored styles list), never a crash or a bot that cannot start.
 */
import { z } from 'zod';
import {
  type EncodedImage,
  encoderChoice,
  type JobStage,
  parseRequest,
  type StyleInfo,
  type StyleUsed,
  type StylizeRequest,
  type StylizeResult,
  type Timings,
  USER_ERROR_CODES,
  UserError,
} from '../engine/index.ts';

type FaceInfo = NonNullable<StylizeResult['face']>;

type WireFace =
  Exclude<StylizeRequest['face'], { kind: 'photo' }> | { kind: 'photo'; bytes64: string };
type WireStyle =
  | Exclude<StylizeRequest['style'], { kind: 'image' }>
  | { kind: 'image'; pack: string; image64: string };

/** The request with its bytes (photo, exemplar images, variants' images) as base64. */
export type WireRequest = Omit<StylizeRequest, 'face' | 'style' | 'variants'> & {
  face: WireFace;
  style: WireStyle;
  variants?: WireStyle[];
};

/**
 * A job's data in BullMQ. `v` lets a rolling upgrade tell old jobs apart. The request's
 * optional `requestId` (the command's) puts the worker's log lines beside the bot's; jobs
 * enqueued by a bot without it still decode.
 */
export interface JobData {
  v: 1;
  request: WireRequest;
}

export type WireResult = Omit<StylizeResult, 'image'> & { image: WireImage };

type WireImage = Omit<EncodedImage, 'bytes'> & { bytes64: string };

/**
 * What a worker reports through `job.updateProgress` (BullMQ's progress event, on the queue's
 * event stream): a stage, or the job's preview image (a small JPEG).
 */
export type JobProgressData = { stage: JobStage } | { preview: WireImage };

/** A preview is a few tens of kB; a larger one read back from Redis is ignored. */
const PREVIEW_MAX_BASE64 = 1024 * 1024;

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const unb64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'));

const wireStyle = (style: StylizeRequest['style']): WireStyle =>
  style.kind === 'image' ? { kind: 'image', pack: style.pack, image64: b64(style.image) } : style;

/** The request as job data; `file-too-large` when its bytes exceed `maxBytes`. */
export function encodeRequest(request: StylizeRequest, maxBytes: number): JobData {
  const face: WireFace =
    request.face.kind === 'photo'
      ? { kind: 'photo', bytes64: b64(request.face.bytes) }
      : request.face;
  const { variants, ...rest } = request;
  const data: JobData = {
    v: 1,
    request: {
      ...rest,
      face,
      style: wireStyle(request.style),
      ...(variants && { variants: variants.map(wireStyle) }),
    },
  };
  const size = Buffer.byteLength(JSON.stringify(data));
  if (size > maxBytes) throw new UserError('file-too-large', `request is ${size} > ${maxBytes} B`);
  return data;
}

/**
 * Far above anything the engine returns (18 weights, 8 styles, a few faces, 68 landmarks): they
 * only keep a forged value in Redis from costing the bot much.
 */
const MANY = 1024;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');
const bytes64 = base64.transform(unb64);

/** Base64 back to bytes; every other kind passes to the engine's own schema as it is. */
const wireBytes = {
  face: z.union([
    z
      .object({ kind: z.literal('photo'), bytes64 })
      .transform(({ bytes64: bytes }) => ({ kind: 'photo' as const, bytes })),
    z.looseObject({ kind: z.string() }),
  ]),
  style: z.union([
    z
      .object({ kind: z.literal('image'), pack: z.string(), image64: bytes64 })
      .transform(({ pack, image64 }) => ({ kind: 'image' as const, pack, image: image64 })),
    z.looseObject({ kind: z.string() }),
  ]),
};
const jobData = z.object({
  v: z.literal(1),
  request: z.looseObject({
    face: wireBytes.face,
    style: wireBytes.style,
    variants: z.array(wireBytes.style).max(MANY).optional(),
  }),
});

/**
 * Job data as a request, checked as the engine checks one (`parseRequest`, so every field the
 * engine takes travels, with its bounds); a UserError('internal') when it is not one, so the job
 * is not retried. The bot checked it before enqueueing: this one came from elsewhere.
 */
export function decodeRequest(raw: unknown): StylizeRequest {
  const wire = jobData.safeParse(raw);
  if (!wire.success) {
    const issue = wire.error.issues[0];
    throw notARequest(`${issue?.path.join('.')}: ${issue?.message}`);
  }
  try {
    // parseRequest validates every field; the cast only names what it is about to check.
    return parseRequest(wire.data.request as StylizeRequest);
  } catch (error) {
    throw error instanceof UserError ? notARequest(error.detail ?? error.code) : error;
  }
}

const toWireImage = ({ bytes, ...image }: EncodedImage): WireImage => ({
  ...image,
  bytes64: b64(bytes),
});
const fromWireImage = ({ bytes64, ...image }: WireImage): EncodedImage => ({
  ...image,
  bytes: unb64(bytes64),
});
const notARequest = (why: string): UserError =>
  new UserError('internal', `job data is not a request: ${why}`);

export function encodeResult(result: StylizeResult): WireResult {
  return { ...result, image: toWireImage(result.image) };
}

/** Whether each of A and B is assignable to the other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/**
 * `shape` as it is, when it has exactly the fields of the engine's type `T` and each yields
 * exactly that field's type: `tsc` fails here when the engine's result gains a field, or a field
 * gains a value (a kind, a format), that the queue would drop or refuse.
 */
const fieldsOf =
  <T>() =>
  <S extends { [K in keyof T]-?: z.ZodType }>(
    shape: S &
      NoInfer<{
        [K in keyof S]: K extends keyof T
          ? Same<z.output<S[K]>, T[K]> extends true
            ? unknown
            : never
          : never;
      }>,
  ): S =>
    shape;

const finite = z.number().finite();
const wireImage = z.object(
  fieldsOf<WireImage>()({
    format: z.enum(['jpeg', 'webp', 'png']),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    bytes64: base64,
  }),
);
const count = z.number().int().nonnegative();
const point = z.array(finite).length(2);

const faceInfo = z.object(
  fieldsOf<FaceInfo>()({
    faceCount: count,
    box: z.array(finite).length(4),
    landmarks: z.array(point).max(MANY),
    quad: z.array(point).length(4),
    qsize: finite,
  }),
);

/** A single style: a tile, or one side of a blend (blends do not nest). */
const styleFields = fieldsOf<Omit<StyleUsed, 'blend'>>()({
  pack: z.string(),
  kind: z.enum(['exemplar', 'sampled', 'image', 'blend']),
  exemplar: z.object({ id: count, name: z.string() }).optional(),
  structureSeed: z.string().optional(),
  colorSeed: z.string().optional(),
  imageKey: z.string().optional(),
  reference: z.string(),
});
const singleStyle = z.object(styleFields);
const styleUsed = z.object(
  fieldsOf<StyleUsed>()({
    ...styleFields,
    blend: z
      .object(
        fieldsOf<NonNullable<StyleUsed['blend']>>()({
          a: singleStyle,
          b: singleStyle,
          ratio: z.number().min(0).max(1),
        }),
      )
      .optional(),
  }),
);

const timings = z.object(
  fieldsOf<Timings>()({
    load: finite.optional(),
    decode: finite.optional(),
    detect: finite.optional(),
    align: finite.optional(),
    encode: finite.optional(),
    sample: finite.optional(),
    map: finite.optional(),
    generate: finite.optional(),
    paste: finite.optional(),
    output: finite.optional(),
  }),
);

const wireResult = z.object(
  fieldsOf<WireResult>()({
    image: wireImage,
    photoKey: z.string().optional(),
    face: faceInfo.optional(),
    style: styleUsed,
    weights: z.array(finite).max(MANY),
    truncation: finite,
    preserveColor: z.boolean(),
    // Job records keep it, so a re-roll reads the same (z+ or W+) cached code.
    encoder: encoderChoice.optional(),
    noiseSeed: z.string().optional(),
    cacheHit: z.boolean(),
    batchSize: z.number().int().positive(),
    tiles: z.array(styleUsed).max(MANY).optional(),
    faces: z.array(faceInfo).max(MANY).optional(),
    skippedFaces: count.optional(),
    timings,
  }),
);

/** A job's return value as a result; UserError('internal') when it is not one. */
export function decodeResult(raw: unknown): StylizeResult {
  const parsed = wireResult.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(
      'internal',
      `job result is malformed: ${issue?.path.join('.')}: ${issue?.message}`,
    );
  }
  const { image, ...rest } = parsed.data;
  return { ...rest, image: fromWireImage(image) };
}

/** A preview as progress data. */
export function encodePreview(image: EncodedImage): JobProgressData {
  return { preview: toWireImage(image) };
}

const progress = z.union([
  z.object({ stage: z.enum(['aligning', 'encoding', 'generating']) }),
  z.object({ preview: wireImage.extend({ bytes64: base64.max(PREVIEW_MAX_BASE64) }) }),
]);

/** The stage or preview a progress event reports, or undefined for anything else. */
export function decodeProgress(
  raw: unknown,
): { stage: JobStage } | { preview: EncodedImage } | undefined {
  const parsed = progress.safeParse(raw);
  if (!parsed.success) return undefined;
  const data = parsed.data;
  return 'preview' in data ? { preview: fromWireImage(data.preview) } : data;
}

const styleList = z.array(
  z.object({
    name: z.string(),
    size: z.number().int().positive(),
    exemplars: z.array(z.string()),
    defaults: z.object({
      structure: finite,
      color: finite,
      perSlot: z.array(finite).optional(),
      truncation: finite,
    }),
    hasSampler: z.boolean(),
    demo: z.boolean(),
    licence: z.string(),
    version: z.string().min(1),
  }),
);

/** The workers' published styles (JSON text), or an Error saying why they cannot be used. */
export function decodeStyles(text: string): StyleInfo[] | Error {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return new Error('the published styles are not JSON');
  }
  const parsed = styleList.safeParse(json);
  return parsed.success
    ? parsed.data
    : new Error(`the published styles are malformed: ${parsed.error.issues[0]?.message}`);
}

const USER_ERROR_TAG = 'pastiche-user-error:';
const taggedError = z.object({ code: z.enum(USER_ERROR_CODES), detail: z.string() });

/** A failure as BullMQ's `failedReason` string; a UserError keeps its code and detail. */
export function encodeError(error: unknown): string {
  if (error instanceof UserError) {
    return USER_ERROR_TAG + JSON.stringify({ code: error.code, detail: error.detail ?? '' });
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * The error a user sees for a job that failed for good: its own UserError, else `internal`
 * naming the attempts (a crash or stall on every try ends here).
 */
export function decodeError(failedReason: string, attemptsMade: number): UserError {
  if (failedReason.startsWith(USER_ERROR_TAG)) {
    let json: unknown;
    try {
      json = JSON.parse(failedReason.slice(USER_ERROR_TAG.length));
    } catch {
      // A garbled tag falls through to the generic error below.
    }
    const parsed = taggedError.safeParse(json);
    if (parsed.success) return new UserError(parsed.data.code, parsed.data.detail || undefined);
  }
  return new UserError('internal', `failed after ${attemptsMade} attempt(s): ${failedReason}`);
}

/** Redis keys beside BullMQ's own, one namespace per deployment (`keyPrefix`) and queue. */
export function sideKeys(
  keyPrefix: string,
  queueName: string,
): {
  styles: string;
  queued: string;
  cancel: (jobId: string) => string;
} {
  const base = `${keyPrefix}:queue:${queueName}`;
  return {
    /** JSON StyleInfo[] the workers publish, so the bot lists styles without loading packs. */
    styles: `${base}:styles`,
    /** Hash user → jobs waiting, for per-user priority (fairness). */
    queued: `${base}:queued`,
    cancel: (jobId) => `${base}:cancel:${jobId}`,
  };
}

export type { StyleInfo };
