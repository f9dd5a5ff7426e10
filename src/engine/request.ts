/** What a caller may ask of the engine, validated once at the boundary. */
import { z } from 'zod';
import { UserError } from './errors.ts';
import type { OutputFormat } from './image/encode.ts';
import type { DefaultWeights, StyleManifest } from './pack/manifest.ts';

const unit = z.number().min(0).max(1);
const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected bytes (a Uint8Array)');

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
  /** Output side; the model's native size or a downscale. */
  size: z.number().int().positive().optional(),
  format: z.enum(['jpeg', 'webp', 'png']).default('jpeg'),
  quality: z.number().int().min(1).max(100).default(90),
  /** Fresh noise from this seed instead of the checkpoint's stored buffers. */
  noiseSeed: z.string().optional(),
  priority: z.number().int().default(0),
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
  return parsed.data;
}

/** Output sides offered: the native size and power-of-two downscales down to 256. */
export function allowedSizes(native: number): number[] {
  const sizes: number[] = [];
  for (let s = native; s >= Math.min(256, native); s /= 2) sizes.push(s);
  return sizes;
}

/**
 * The per-slot weight vector: explicit `weights`, else `structure` for the structure slots and
 * `color` for the rest, falling back to the pack's defaults.
 */
export function slotWeights(
  request: Pick<ParsedRequest, 'structure' | 'color' | 'weights'>,
  defaults: DefaultWeights,
  nLatent: number,
  nStructure: number,
): number[] {
  if (request.weights) {
    if (request.weights.length !== nLatent) {
      throw new UserError(
        'bad-option',
        `weights needs ${nLatent} values, got ${request.weights.length}`,
      );
    }
    return [...request.weights];
  }
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
  req: Pick<ParsedRequest, 'structure' | 'color' | 'weights' | 'truncation' | 'preserveColor'>,
  m: Pick<StyleManifest, 'defaults' | 'nLatent' | 'nStructure'>,
  content: { code: Float32Array; isW: boolean },
): {
  weights: number[];
  truncation: number;
  keepColour?: { content: Float32Array; contentIsW: boolean };
} {
  return {
    weights: slotWeights(req, m.defaults, m.nLatent, m.nStructure),
    truncation: req.truncation ?? m.defaults.truncation,
    ...(req.preserveColor && { keepColour: { content: content.code, contentIsW: content.isW } }),
  };
}

export type { OutputFormat };
