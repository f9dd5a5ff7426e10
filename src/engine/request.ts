/** What a caller may ask of the engine, validated once at the boundary. */
import { z } from 'zod';
import { UserError } from './errors.ts';
import type { OutputFormat } from './image/encode.ts';
import type { DefaultWeights, StyleManifest } from './pack/manifest.ts';
import { presetWeights, weightPreset } from './presets.ts';

const unit = z.number().min(0).max(1);
const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected bytes (a Uint8Array)');

/** One side of a blend: a style of the blend's pack that a reference can name. */
export const stylePart = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('exemplar'),
    exemplar: z.union([z.number().int(), z.string()]).optional(),
  }),
  z.object({ kind: z.literal('sampled'), structureSeed: z.string(), colorSeed: z.string() }),
  z.object({ kind: z.literal('cached-image'), key: z.string() }),
]);
export type StylePart = z.infer<typeof stylePart>;

/** Where the style comes from. */
export const styleChoice = z.discriminatedUnion('kind', [
  /** One of the pack's exemplars, by id or file name (default: the first). */
  z.object({
    kind: z.literal('exemplar'),
    pack: z.string(),
    exemplar: z.union([z.number().int(), z.string()]).optional(),
  }),
  /** A style drawn by the pack's sampler; separate seeds re-roll structure or colour alone. */
  z.object({
    kind: z.literal('sampled'),
    pack: z.string(),
    structureSeed: z.string(),
    colorSeed: z.string(),
  }),
  /** A new exemplar image, encoded like a photo (how the published codes were made). */
  z.object({ kind: z.literal('image'), pack: z.string(), image: bytes }),
  /** An exemplar image encoded before, by its cache key (a re-render never re-encodes). */
  z.object({ kind: z.literal('cached-image'), pack: z.string(), key: z.string() }),
  /**
   * Style fusion (the official notebook's): `(1 − ratio)·a + ratio·b` in z+, so ratio 0 is `a`
   * and 1 is `b` exactly.
   */
  z.object({
    kind: z.literal('blend'),
    pack: z.string(),
    a: stylePart,
    b: stylePart,
    ratio: unit.default(0.5),
  }),
]);
export type StyleChoice = z.infer<typeof styleChoice>;

/** Where the face comes from. */
export const faceChoice = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('photo'), bytes }),
  /** A photo encoded before, by the sha256 of its bytes. */
  z.object({ kind: z.literal('cached-photo'), key: z.string() }),
  /** No photo: a random face from a seed (the reference's "artistic portrait generation"). */
  z.object({ kind: z.literal('random'), seed: z.string() }),
]);
export type FaceChoice = z.infer<typeof faceChoice>;

/**
 * Which encoder turns the photo into a content code: `style` (DualStyleGAN's z+ encoder, the
 * reference default) or `identity` (the W+ pSp encoder: "may better preserve the face").
 */
export const encoderChoice = z.enum(['style', 'identity']);
export type EncoderChoice = z.infer<typeof encoderChoice>;

export const stylizeRequest = z.object({
  userId: z.string().min(1),
  face: faceChoice,
  style: styleChoice,
  structure: unit.optional(),
  color: unit.optional(),
  /** All per-slot weights at once (overrides structure and colour). */
  weights: z.array(unit).optional(),
  preserveColor: z.boolean().default(false),
  /** Default: the engine's (`engine.encoder` in the configuration). */
  encoder: encoderChoice.optional(),
  truncation: unit.optional(),
  /** Named per-slot weights (see presets.ts); explicit `weights` win, then the preset. */
  preset: weightPreset.optional(),
  /**
   * The face regenerated from its content code alone, extrinsic path off (weights all 0, no
   * truncation): how well the encoder captured it, the official overview's "reconstructed" panel.
   */
  reconstruct: z.boolean().default(false),
  /** `crop`: the aligned square; `photo`: pasted back into the whole photo (needs its bytes). */
  output: z.enum(['crop', 'photo']).default('crop'),
  /** `all`: every face of the photo (up to the engine's `maxFaces`), in the same style; implies `photo`. */
  faces: z.enum(['largest', 'all']).default('largest'),
  /**
   * More styles on the same face, generated in the same call and laid out with `style` first,
   * `columns` to a row (default: all in one row): a variation grid or a fusion strip.
   */
  variants: z.array(styleChoice).min(1).max(7).optional(),
  columns: z.number().int().min(1).max(8).optional(),
  /** Output side; the model's native size or a downscale. */
  size: z.number().int().positive().optional(),
  format: z.enum(['jpeg', 'webp', 'png']).default('jpeg'),
  quality: z.number().int().min(1).max(100).default(90),
  /** Fresh noise from this seed instead of the checkpoint's stored buffers. */
  noiseSeed: z.string().optional(),
  priority: z.number().int().default(0),
  /**
   * The command's request id, carried to another process's log lines (a queue worker's); the
   * engine itself does nothing with it.
   */
  requestId: z.string().min(1).max(64).optional(),
});
export type StylizeRequest = z.input<typeof stylizeRequest>;
export type ParsedRequest = z.output<typeof stylizeRequest>;

export function parseRequest(request: StylizeRequest): ParsedRequest {
  const parsed = stylizeRequest.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(
      'bad-option',
      issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid request',
    );
  }
  const req = parsed.data;
  const refuse = (why: string): never => {
    throw new UserError('bad-option', why);
  };
  if (req.variants && (req.output === 'photo' || req.faces === 'all')) {
    refuse('several styles come as crops, not pasted into the photo');
  }
  if ((req.output === 'photo' || req.faces === 'all') && req.face.kind === 'random') {
    refuse('a random face has no photo to paste into');
  }
  return req;
}

/** Output sides offered: the native size and power-of-two downscales down to 256. */
export function allowedSizes(native: number): number[] {
  const sizes: number[] = [];
  for (let s = native; s >= Math.min(256, native); s /= 2) sizes.push(s);
  return sizes;
}

/**
 * The per-slot weight vector: all 0 for a reconstruction, else explicit `weights`, else a
 * preset's, else `structure` for the structure slots and `color` for the rest, falling back to
 * the pack's defaults.
 */
export function slotWeights(
  request: Pick<ParsedRequest, 'structure' | 'color' | 'weights'> &
    Partial<Pick<ParsedRequest, 'preset' | 'reconstruct'>>,
  defaults: DefaultWeights,
  nLatent: number,
  nStructure: number,
): number[] {
  if (request.reconstruct) return new Array<number>(nLatent).fill(0);
  if (request.weights) {
    if (request.weights.length !== nLatent) {
      throw new UserError(
        'bad-option',
        `weights needs ${nLatent} values, got ${request.weights.length}`,
      );
    }
    return [...request.weights];
  }
  if (request.preset) return presetWeights(request.preset, nLatent, nStructure);
  if (defaults.perSlot && request.structure === undefined && request.color === undefined) {
    return [...defaults.perSlot];
  }
  const s = request.structure ?? defaults.structure;
  const c = request.color ?? defaults.color;
  return Array.from({ length: nLatent }, (_, k) => (k < nStructure ? s : c));
}

/**
 * What a request asks of the generator for one face beside the codes: the slot weights, the
 * truncation, and with preserve colour the content code whose colour slots replace the
 * exemplar's (in `LoadedStyle.extrinsic`). The engine and the parity tests both go through it.
 */
export function generatorSettings(
  req: Pick<ParsedRequest, 'structure' | 'color' | 'weights' | 'truncation' | 'preserveColor'> &
    Partial<Pick<ParsedRequest, 'preset' | 'reconstruct'>>,
  m: Pick<StyleManifest, 'defaults' | 'nLatent' | 'nStructure'>,
  content: { code: Float32Array; isW: boolean },
): {
  weights: number[];
  truncation: number;
  keepColour?: { content: Float32Array; contentIsW: boolean };
} {
  return {
    weights: slotWeights(req, m.defaults, m.nLatent, m.nStructure),
    // The reconstruction is the encoder's face as it is: no pull toward the average face.
    truncation: req.truncation ?? (req.reconstruct ? 1 : m.defaults.truncation),
    ...(req.preserveColor && { keepColour: { content: content.code, contentIsW: content.isW } }),
  };
}

export type { OutputFormat };
