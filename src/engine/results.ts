/** What the engine answers: results, the styles it lists, its health. */
import type { EncodedImage } from './image/encode.ts';
import type { HostHealth } from './inference/client.ts';
import type { FaceInfo } from './photo.ts';
import type { StyleManifest } from './pack/manifest.ts';
import type { EncoderChoice } from './request.ts';
import type { SchedulerStats } from './scheduler/index.ts';
import type { Timings } from './timings.ts';

export interface StyleUsed {
  pack: string;
  kind: 'exemplar' | 'sampled' | 'image' | 'blend';
  exemplar?: { id: number; name: string };
  structureSeed?: string;
  colorSeed?: string;
  /** Cache key of a user-supplied exemplar image's code. */
  imageKey?: string;
  /** A fusion: its two styles and the ratio (0 is `a`, 1 is `b`). */
  blend?: { a: StyleUsed; b: StyleUsed; ratio: number };
  /** The style's reference (style-ref.ts): `stylize style:` takes it back. */
  reference: string;
}

export interface StylizeResult {
  image: EncodedImage;
  /** sha256 of the photo, the key a re-roll passes as `{ kind: 'cached-photo' }`. */
  photoKey?: string;
  face?: FaceInfo;
  style: StyleUsed;
  weights: number[];
  truncation: number;
  preserveColor: boolean;
  /** The encoder that made the photo's content code (absent for a random face). */
  encoder?: EncoderChoice;
  noiseSeed?: string;
  /** True when the photo's content code came from the cache (the encoder did not run). */
  cacheHit: boolean;
  /** Images generated in the same generator call as this one (every face and tile counts). */
  batchSize: number;
  /** With `variants`: every tile's style, in layout order (the first is `style`). */
  tiles?: StyleUsed[];
  /** With `output: photo`: the faces pasted back, largest first. */
  faces?: FaceInfo[];
  /** Faces of the photo left as they were (could not be aligned, or past `maxFaces`). */
  skippedFaces?: number;
  timings: Timings;
}

/** What `engine.health()` and `GET /healthz` report. */
export interface EngineHealth {
  /** `ready` when jobs can run now; `remote` for the queue-mode facade (workers report their own). */
  state: HostHealth['state'] | 'remote';
  /** The inference host's process id while it runs. */
  pid?: number;
  /** Times the inference host died and was restarted. */
  restarts: number;
  lastCrash?: HostHealth['lastCrash'];
  /** The inference host's peak resident memory in bytes (its models), as of its latest answer. */
  peakRssBytes?: number;
  /** Packs loaded in the inference host. */
  packs: string[];
  jobs: SchedulerStats;
  /** Queue mode: whether the bot's Redis connection is up. */
  redisReady?: boolean;
}

/** A pack as users see it. */
export interface StyleInfo {
  name: string;
  size: number;
  exemplars: readonly string[];
  defaults: StyleManifest['defaults'];
  hasSampler: boolean;
  demo: boolean;
  licence: string;
  /**
   * Changes whenever the pack's files do (a re-import, another release): what keys anything made
   * from the pack, such as contact sheets, so callers never read pack files themselves.
   */
  version: string;
}
