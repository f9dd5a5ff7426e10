/**
 * What a model family provides: the code that turns a request into generator inputs (in the
 * engine's process) and the code that loads and runs a pack's networks (in the inference host).
 * The pack's manifest names its family in `architecture`; families/index.ts maps the name here.
 * A family may also make its packs (`packs`: import of its checkpoints, demo weights).
 */
import type { LatentCache } from '../cache/latents.ts';
import type { InferenceClient } from '../inference/client.ts';
import type { DemoPackOptions, DemoPacks, DemoSize } from '../pack/demo-packs.ts';
import type { Manifest, StyleManifest } from '../pack/manifest.ts';
import type { ImportOptions } from '../pack/official.ts';
import type { InstalledPack } from '../pack/store.ts';
import type { ParsedRequest } from '../request.ts';
import type { StyleUsed } from '../results.ts';
import type { GenerateInput, LoadedEncoder, LoadedStyle } from '../runtime/loaded.ts';
import type { SessionOptions } from '../runtime/session.ts';
import type { JobContext } from '../scheduler/index.ts';
import type { Timings } from '../timings.ts';

/** One job as a family's style step sees it, once the faces' content codes are known. */
export interface StyleJob {
  req: ParsedRequest;
  manifest: StyleManifest;
  /** One content code per image of the job's faces (z+, or W+ where `contentIsW`). */
  codes: readonly Float32Array[];
  contentIsW: boolean;
  ctx: JobContext;
  timings: Timings;
  /** The inference host, for the family's steps there (`exemplar`, `sample`, `extrinsic`). */
  host: Pick<InferenceClient, 'call'>;
  cache: LatentCache;
  /** Names the style's own encoder weights, to key codes it made (user-supplied style images). */
  styleEncoderChecksum: string;
  /** A photo's code from the style's own encoder (aligned and encoded in the host). */
  encodeStyleImage(bytes: Uint8Array): Promise<Float32Array>;
}

/** What the generator makes of a job, and how its result describes the style(s). */
export interface StyledInputs {
  /** One per image: every style (tile) × every face, in that order. */
  inputs: GenerateInput[];
  used: StyleUsed;
  /** With `variants`: every tile's style, in layout order. */
  tiles?: StyleUsed[];
}

/** A loaded style pack in the inference host: what the host's operations call. */
export type StyleModel = Pick<
  LoadedStyle,
  | 'manifest'
  | 'encoder'
  | 'acceptsW'
  | 'provider'
  | 'previewSize'
  | 'exemplar'
  | 'sample'
  | 'map'
  | 'extrinsic'
  | 'generate'
  | 'preview'
  | 'dispose'
>;

export interface ModelFamily {
  /** The manifest's `architecture`. */
  readonly architecture: string;
  /** Engine process: the generator inputs of a job, from its content codes and styles. */
  styleInputs(job: StyleJob): Promise<StyledInputs>;
  /** Inference host: a style pack's networks, with the encoder pack it pairs with. */
  load(pack: InstalledPack, encoder: LoadedEncoder, options: SessionOptions): Promise<StyleModel>;
  /** Inference host: runs each network once, so the first request is as fast as later ones. */
  warm(model: StyleModel): Promise<void>;
  /** CLI: how the family's packs are made; none for a family that only runs packs made elsewhere. */
  readonly packs?: FamilyPacks;
}

/**
 * Making a family's packs: which graphs a style pack has and how they are built from the
 * family's checkpoints. The shared parts stay in pack/: the encoder pack and provenance
 * (import.ts), pack names and skipping what is installed (official.ts), atomic writes
 * (write.ts). Load the builders lazily: the inference host never needs them.
 */
export interface FamilyPacks {
  /** `models demo`: packs of `size` from seeded random weights, through the import code. */
  demo(out: string, size: DemoSize, options: DemoPackOptions): Promise<DemoPacks>;
  /** `models import <dir>`: the packs of the family's release folder, encoders first. */
  importRelease(dir: string, options: ImportOptions): Promise<Manifest[]>;
}
