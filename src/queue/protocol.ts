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
  type StyleInfo,
  type StylizeRequest,
  type StylizeResult,
  USER_ERROR_CODES,
  UserError,
} from '../engine/index.ts';

type WireFace =
  Exclude<StylizeRequest['face'], { kind: 'photo' }> | { kind: 'photo'; bytes64: string };
type WireStyle =
  | Exclude<StylizeRequest['style'], { kind: 'image' }>
  | { kind: 'image'; pack: string; image64: string };

export type WireRequest = Omit<StylizeRequest, 'face' | 'style'> & {
  face: WireFace;
  style: WireStyle;
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

/** The request as job data; `file-too-large` when its bytes exceed `maxBytes`. */
export function encodeRequest(request: StylizeRequest, maxBytes: number): JobData {
  const face: WireFace =
    request.face.kind === 'photo'
      ? { kind: 'photo', bytes64: b64(request.face.bytes) }
      : request.face;
  const style: WireStyle =
    request.style.kind === 'image'
      ? { kind: 'image', pack: request.style.pack, image64: b64(request.style.image) }
      : request.style;
  const data: JobData = { v: 1, request: { ...request, face, style } };
  const size = Buffer.byteLength(JSON.stringify(data));
  if (size > maxBytes) throw new UserError('file-too-large', `request is ${size} > ${maxBytes} B`);
  return data;
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');

/** Just what decoding needs; `Engine.submit` validates the whole request (request.ts) after. */
const jobData = z.object({
  v: z.literal(1),
  request: z.looseObject({
    requestId: z.string().min(1).max(64).optional(),
    face: z.union([
      z.object({ kind: z.literal('photo'), bytes64: base64 }),
      z.looseObject({ kind: z.enum(['cached-photo', 'random']) }),
    ]),
    style: z.union([
      z.object({ kind: z.literal('image'), pack: z.string(), image64: base64 }),
      z.looseObject({ kind: z.enum(['exemplar', 'sampled', 'cached-image']) }),
    ]),
  }),
});

/** Job data as a request; a UserError (so the job is not retried) when it is not one. */
export function decodeRequest(raw: unknown): StylizeRequest {
  const parsed = jobData.safeParse(raw);
  if (!parsed.success) {
    throw new UserError(
      'internal',
      `job data is not a request: ${parsed.error.issues[0]?.message}`,
    );
  }
  const { face, style, ...rest } = parsed.data.request as unknown as WireRequest;
  return {
    ...rest,
    face: face.kind === 'photo' ? { kind: 'photo', bytes: unb64(face.bytes64) } : face,
    style:
      style.kind === 'image'
        ? { kind: 'image', pack: style.pack, image: unb64(style.image64) }
        : style,
  };
}

const toWireImage = ({ bytes, ...image }: EncodedImage): WireImage => ({
  ...image,
  bytes64: b64(bytes),
});
const fromWireImage = ({ bytes64, ...image }: WireImage): EncodedImage => ({
  ...image,
  bytes: unb64(bytes64),
});

export function encodeResult(result: StylizeResult): WireResult {
  return { ...result, image: toWireImage(result.image) };
}

const finite = z.number().finite();
const wireImage = z.object({
  format: z.enum(['jpeg', 'webp', 'png']),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  bytes64: base64,
});
const wireResult = z.object({
  image: wireImage,
  photoKey: z.string().optional(),
  face: z
    .object({
      faceCount: z.number().int().nonnegative(),
      box: z.array(finite),
      landmarks: z.array(z.array(finite)),
      quad: z.array(z.array(finite)),
      qsize: finite,
    })
    .optional(),
  style: z.object({
    pack: z.string(),
    kind: z.enum(['exemplar', 'sampled', 'image']),
    exemplar: z.object({ id: z.number().int().nonnegative(), name: z.string() }).optional(),
    structureSeed: z.string().optional(),
    colorSeed: z.string().optional(),
    imageKey: z.string().optional(),
  }),
  weights: z.array(finite),
  truncation: finite,
  preserveColor: z.boolean(),
  // Job records keep it, so a re-roll reads the same (z+ or W+) cached code.
  encoder: encoderChoice.optional(),
  noiseSeed: z.string().optional(),
  cacheHit: z.boolean(),
  batchSize: z.number().int().positive(),
  timings: z.record(z.string(), finite),
});

/** A job's return value as a result; UserError('internal') when it is not one. */
export function decodeResult(raw: unknown): StylizeResult {
  const parsed = wireResult.safeParse(raw);
  if (!parsed.success) {
    throw new UserError('internal', `job result is malformed: ${parsed.error.issues[0]?.message}`);
  }
  const { image, ...rest } = parsed.data;
  return { ...(rest as Omit<StylizeResult, 'image'>), image: fromWireImage(image) };
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
