/**
 * What travels through Redis between the bot (`RemoteEngine`) and `pastiche worker`: requests
 * and results as JSON, bytes as base64 (BullMQ stores job data and return values as JSON), and
 * errors as a tagged string so a UserError keeps its code across processes.
 */
import type { StyleInfo, StylizeResult } from '../engine/engine.ts';
import { UserError, type UserErrorCode } from '../engine/errors.ts';
import type { EncodedImage } from '../engine/image/encode.ts';
import type { StylizeRequest } from '../engine/request.ts';
import type { JobStage } from '../engine/scheduler/types.ts';

type WireFace =
  Exclude<StylizeRequest['face'], { kind: 'photo' }> | { kind: 'photo'; bytes64: string };
type WireStyle =
  | Exclude<StylizeRequest['style'], { kind: 'image' }>
  | { kind: 'image'; pack: string; image64: string };

export type WireRequest = Omit<StylizeRequest, 'face' | 'style'> & {
  face: WireFace;
  style: WireStyle;
};

/** A job's data in BullMQ. `v` lets a rolling upgrade tell old jobs apart. */
export interface JobData {
  v: 1;
  request: WireRequest;
}

export type WireResult = Omit<StylizeResult, 'image'> & {
  image: Omit<EncodedImage, 'bytes'> & { bytes64: string };
};

/** What a worker reports through `job.updateProgress`. */
export interface JobProgressData {
  stage: JobStage;
}

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

export function decodeRequest(data: JobData): StylizeRequest {
  const { face, style, ...rest } = data.request;
  return {
    ...rest,
    face: face.kind === 'photo' ? { kind: 'photo', bytes: unb64(face.bytes64) } : face,
    style:
      style.kind === 'image'
        ? { kind: 'image', pack: style.pack, image: unb64(style.image64) }
        : style,
  };
}

export function encodeResult(result: StylizeResult): WireResult {
  const { bytes, ...image } = result.image;
  return { ...result, image: { ...image, bytes64: b64(bytes) } };
}

export function decodeResult(wire: WireResult): StylizeResult {
  const { bytes64, ...image } = wire.image;
  return { ...wire, image: { ...image, bytes: unb64(bytes64) } };
}

const USER_ERROR_TAG = 'pastiche-user-error:';

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
    try {
      const parsed = JSON.parse(failedReason.slice(USER_ERROR_TAG.length)) as {
        code: UserErrorCode;
        detail: string;
      };
      return new UserError(parsed.code, parsed.detail || undefined);
    } catch {
      // A garbled tag falls through to the generic error below.
    }
  }
  return new UserError('internal', `failed after ${attemptsMade} attempt(s): ${failedReason}`);
}

/** Redis keys beside BullMQ's own, one namespace per queue. */
export function sideKeys(queueName: string): {
  styles: string;
  queued: string;
  cancel: (jobId: string) => string;
} {
  const base = `pastiche:queue:${queueName}`;
  return {
    /** JSON StyleInfo[] the workers publish, so the bot lists styles without loading packs. */
    styles: `${base}:styles`,
    /** Hash user → jobs waiting, for per-user priority (fairness). */
    queued: `${base}:queued`,
    cancel: (jobId) => `${base}:cancel:${jobId}`,
  };
}

export type { StyleInfo };
