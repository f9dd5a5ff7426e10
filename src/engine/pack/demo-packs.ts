/**
 * `pastiche models demo`: packs with seeded random weights, written through the same import code
 * as real checkpoints, by the model family that makes them (DualStyleGAN unless asked). For
 * tests, benchmarks and as the offline fallback; their output is not a portrait.
 */
import { familyFor } from '../families/index.ts';
import { DEFAULT_ARCHITECTURE, type EncoderManifest, type StyleManifest } from './manifest.ts';

/** The demo sizes a family offers (DualStyleGAN: the release's 1024 and two narrowed ones). */
export type DemoSize = 64 | 256 | 1024;

export const demoPackName = (size: DemoSize): string => `demo-${size}`;
export const demoEncoderName = (size: DemoSize): string => `demo-${size}-encoder`;

export interface DemoPacks {
  encoder: EncoderManifest;
  /** The W+ ("identity") encoder, when asked for. */
  encoderWPlus?: EncoderManifest;
  style: StyleManifest;
}

export interface DemoPackOptions {
  seed?: number;
  /**
   * Also write `demo-<size>-encoder-wplus`. Default: below 1024, where it costs milliseconds
   * (at 1024 it is another 1.1 GB encoder).
   */
  wPlus?: boolean;
  /** The model family whose demo packs to write (default DualStyleGAN). */
  architecture?: string;
}

/** Writes `demo-<size>-encoder`, `demo-<size>` and (see options) the W+ encoder into `out`. */
export async function writeDemoPacks(
  out: string,
  size: DemoSize,
  options: DemoPackOptions = {},
): Promise<DemoPacks> {
  const family = await familyFor(options.architecture ?? DEFAULT_ARCHITECTURE);
  if (!family.packs) throw new Error(`the ${family.architecture} family makes no demo packs`);
  return family.packs.demo(out, size, options);
}
