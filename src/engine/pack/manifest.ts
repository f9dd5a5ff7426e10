/**
 * A style pack is a directory: `manifest.json`, ONNX graphs with their external weight files,
 * and (for a style) the exemplar codes as raw float32. The manifest is the pack's contract.
 */
import { PasticheError } from '../errors.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const MANIFEST = 'manifest.json';
/**
 * 2: `generator.onnx` takes `content_is_w`. Packs of format 1 still load (z+ content only); an
 * import rebuilds them.
 */
export const PACK_FORMAT = 2;

/** The official weights' licence, repeated wherever they are downloaded, imported or listed. */
/** The model family of packs whose manifest names none, and of `models import`/`demo` by default. */
export const DEFAULT_ARCHITECTURE = 'dualstylegan';

export const OFFICIAL_LICENCE =
  'DualStyleGAN weights: S-Lab License 1.0, non-commercial use only (https://github.com/williamyang1991/DualStyleGAN)';
export const DEMO_LICENCE =
  'Demo pack: seeded random weights made by Pastiche; no licence restrictions';

const fileEntry = z.object({
  name: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string(),
});
export type FileEntry = z.infer<typeof fileEntry>;

const common = {
  format: z.number().int().min(1).max(PACK_FORMAT),
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/),
  createdAt: z.string(),
  licence: z.string(),
  demo: z.boolean(),
  /** The checkpoint files the pack was made from. */
  sources: z.array(fileEntry),
  /** Every file of the pack but the manifest, with checksums for `models verify`. */
  files: z.array(fileEntry),
  nLatent: z.number().int().positive(),
  styleDim: z.number().int().positive(),
};

/**
 * What an encoder's codes are: z+ (DualStyleGAN's encoder.pt; the generator maps them) or W+
 * (encoder_wplus.pt, the original pSp; used as W directly, "may better preserve the face").
 */
export const latentSpace = z.enum(['z+', 'w+']);
export type LatentSpace = z.infer<typeof latentSpace>;

export const encoderManifest = z.object({
  ...common,
  kind: z.literal('encoder'),
  /** Manifests written before the W+ encoder existed have no `space`: they are z+. */
  space: latentSpace.default('z+'),
  inputSize: z.number().int().positive(),
  /** sha256 over the mapping network's weights, to tell whether a style may share it. */
  mappingDigest: z.string(),
});
export type EncoderManifest = z.infer<typeof encoderManifest>;

/**
 * The W+ encoder pack paired with the z+ encoder pack `name` (the one style manifests name):
 * `encoder` → `encoder-wplus`. Styles need no change when it is installed later.
 */
export const wPlusEncoderName = (name: string): string => `${name}-wplus`;

const weights = z.object({
  structure: z.number().min(0).max(1),
  color: z.number().min(0).max(1),
  /** Per-slot weights where the authors advise a profile the two knobs cannot express. */
  perSlot: z.array(z.number().min(0).max(1)).optional(),
  truncation: z.number().min(0).max(1),
});
export type DefaultWeights = z.infer<typeof weights>;

export const styleManifest = z.object({
  ...common,
  kind: z.literal('style'),
  /**
   * The model family that builds, loads and runs the pack (src/engine/families). Packs made
   * before families existed have none: they are DualStyleGAN.
   */
  architecture: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/)
    .default(DEFAULT_ARCHITECTURE),
  /** The shared pack with the encoder (and usually the mapping network) this style pairs with. */
  encoder: z.string(),
  size: z.number().int().positive(),
  nStructure: z.number().int().positive(),
  /** Side of each `noise_i` input; `noise.bin` holds the stored buffers in this order. */
  noiseSizes: z.array(z.number().int().positive()),
  /** Exemplar file names in id order (row i of codes.bin). */
  exemplars: z.array(z.string()),
  /** Which table of the release the codes came from. */
  codeTable: z.string(),
  defaults: weights,
  hasSampler: z.boolean(),
  /** Whether this style ships its own mapping network (its weights differ from the shared one). */
  ownMapping: z.boolean(),
  samplerZDim: z.number().int().positive().optional(),
  /**
   * Side of the instant preview, where the pack also holds the generator cut there in two
   * (`generator-head.onnx`, `generator-tail.onnx`, reading `generator.onnx.data`).
   */
  previewSize: z.number().int().positive().optional(),
});
export type StyleManifest = z.infer<typeof styleManifest>;

export const manifestSchema = z.discriminatedUnion('kind', [encoderManifest, styleManifest]);
export type Manifest = z.infer<typeof manifestSchema>;

/** A pack's manifest that cannot be used. */
export class PackError extends PasticheError {
  override readonly name = 'PackError';
  readonly code = 'bad-pack';
  constructor(
    readonly pack: string,
    detail: string,
  ) {
    super(`${pack}: ${detail}`);
  }
}

export function readManifest(dir: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8'));
  } catch (error) {
    throw new PackError(dir, `no readable ${MANIFEST} (${(error as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) throw new PackError(dir, `invalid ${MANIFEST}: ${parsed.error.message}`);
  return parsed.data;
}

// The authors' advice per official style (README of the reference): caricature looks best
// with every weight at 1, anime with the coarsest structure slots off.
const ADVICE: Record<string, Partial<DefaultWeights>> = {
  caricature: { structure: 1, color: 1 },
  anime: { perSlot: [0, 0, 0, 0, 0.75, 0.75, 0.75] },
};

/** Default weights of a style: the reference demo's (s 0.6, c 1, truncation 0.7) plus advice. */
export function defaultWeights(style: string, nLatent: number, nStructure: number): DefaultWeights {
  const base: DefaultWeights = { structure: 0.6, color: 1, truncation: 0.7 };
  const advice = ADVICE[style];
  if (!advice) return base;
  const merged = { ...base, ...advice };
  if (advice.perSlot) {
    merged.perSlot = [
      ...advice.perSlot.slice(0, nStructure),
      ...new Array<number>(nLatent - nStructure).fill(1),
    ];
  }
  return merged;
}
