/**
 * The messages between the engine (main process) and its inference host (a child process). They
 * travel over Node's IPC channel with `serialization: 'advanced'` (V8's structured clone), so
 * photos, crops, codes and images cross as binary typed arrays, never as JSON.
 */
import { NoFaceError, UserError, type UserErrorCode } from '../errors.ts';
import type { EncodedImage } from '../image/encode.ts';
import type { JobOutput } from '../image/render.ts';
import type { AlignedPhoto, AlignedPhotoFaces, FaceOptions, PhotoLimits } from '../photo.ts';
import type { EncoderChoice } from '../request.ts';
import type { GenerateInput } from '../runtime/loaded.ts';
import type { Device } from '../runtime/devices.ts';

/** What the host needs to load packs and read photos; fixed for its lifetime. */
export interface HostConfig {
  modelsDir: string;
  budgetBytes: number;
  threads: number;
  /** `engine.device`; the host logs on stderr where `auto` passed a GPU by. */
  device?: Device;
  warmup: boolean;
  /** Load a pack's preview halves (a first look per job) or its whole generator. */
  preview?: boolean;
  photo?: PhotoLimits;
  face?: FaceOptions;
  /** The engine's model families (architecture → module URL), so the host loads the same. */
  families?: Record<string, string>;
}

/** One job's outcome of a `generate` call: an image, or an error that fails only that job. */
export type OutputOutcome =
  | { ok: true; image: EncodedImage; outputMs: number; pasteMs?: number }
  | { ok: false; error: WireError };

/** Every operation the host offers: its arguments and its result. */
export interface HostOps {
  /** Loads (and warms up) a style pack and its encoder, and its W+ encoder if asked. */
  load: { args: { pack: string; identity?: boolean }; result: void };
  /** Loads and warms up face detection and landmarks. */
  'warm-faces': { args: Record<string, never>; result: void };
  /** Photo bytes → the largest face, aligned to the encoder's crop. */
  align: {
    args: { bytes: Uint8Array };
    result: AlignedPhoto;
  };
  /** Photo bytes → every face (up to `maxFaces`), aligned; faces that cannot be are counted. */
  'align-all': {
    args: { bytes: Uint8Array; maxFaces?: number };
    result: AlignedPhotoFaces;
  };
  /** Aligned crops → their content codes, in one encoder call. */
  'encode-all': {
    args: { pack: string; crops: Uint8Array[]; encoder: EncoderChoice };
    result: Float32Array[];
  };
  /** An aligned crop → its content code, by the style's (z+) or the identity (W+) encoder. */
  encode: {
    args: { pack: string; crop: Uint8Array; encoder: EncoderChoice };
    result: Float32Array;
  };
  exemplar: { args: { pack: string; id: number }; result: Float32Array };
  sample: {
    args: { pack: string; structureSeed: string; colorSeed: string };
    result: Float32Array;
  };
  /** The generator's exstyle: an exemplar's z+ code mapped to W+, colour rows kept if asked. */
  extrinsic: {
    args: {
      pack: string;
      exemplar: Float32Array;
      keepColour?: { content: Float32Array; contentIsW: boolean };
    };
    result: Float32Array;
  };
  /**
   * One generator call for a batch, then each job's images (`images` of them, in order) made
   * into the one file it asked for: a crop, tiles, or the faces pasted into its photo. Where the
   * pack has a preview, a job whose file is one crop gets a {@link HostProgress} `preview` first.
   */
  generate: {
    args: {
      pack: string;
      inputs: GenerateInput[];
      noiseSeed?: string;
      outputs: JobOutput[];
    };
    result: { generateMs: number; outputs: OutputOutcome[] };
  };
}

export type HostOp = keyof HostOps;

/**
 * What a call reports before its result: the preview of job `job` (its index in the call's
 * `outputs`), a small JPEG of the generator's first look, while the rest of the generator runs.
 */
export type HostProgress = { kind: 'preview'; job: number; image: EncodedImage };

/** Main → host. */
export type ToHost =
  | { type: 'call'; id: number; op: HostOp; args: HostOps[HostOp]['args'] }
  /** The job gave up on call `id`: the host stops it at its next stage boundary. */
  | { type: 'cancel'; id: number }
  /** Release the models and exit. */
  | { type: 'close' };

/**
 * Host → main. Each answer carries the host's peak resident memory so far (bytes), so the
 * engine's health tells the models' footprint without a call of its own.
 */
export type FromHost =
  | { type: 'ready' }
  | { type: 'progress'; id: number; progress: HostProgress }
  | { type: 'result'; id: number; value: unknown; maxRssBytes: number }
  | { type: 'error'; id: number; error: WireError; maxRssBytes: number };

/** An error as it crosses the process boundary; {@link fromWire} rebuilds its class. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  code?: UserErrorCode;
  detail?: string;
}

export function toWire(error: unknown): WireError {
  if (error instanceof UserError) {
    return {
      name: error.name,
      message: error.message,
      code: error.code,
      ...(error.detail !== undefined && { detail: error.detail }),
    };
  }
  if (error instanceof Error) {
    return {
      name: error.name,
      message: error.message,
      ...(error.stack !== undefined && { stack: error.stack }),
    };
  }
  return { name: 'Error', message: String(error) };
}

/** The error the host threw, as the same class (callers test `instanceof NoFaceError`). */
export function fromWire(wire: WireError): Error {
  if (wire.code === 'no-face') return new NoFaceError(wire.detail);
  if (wire.code) return new UserError(wire.code, wire.detail);
  const error = new Error(wire.message);
  error.name = wire.name;
  if (wire.stack) error.stack = `${wire.stack}\n    (in the inference host)`;
  return error;
}
