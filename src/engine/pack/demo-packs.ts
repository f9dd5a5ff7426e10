/**
 * `pastiche models demo`: packs of the official architecture with seeded random weights,
 * written through the same import code as real checkpoints. For tests, benchmarks and as the
 * offline fallback; their output is not a portrait.
 */
import type { LazyTensor } from '../checkpoint/tensor.ts';
import { demoCheckpoints, type DemoEncoder, type DemoSize } from './demo.ts';
import { writeEncoderPack, writeStylePack, type Provenance } from './import.ts';
import {
  DEMO_LICENCE,
  wPlusEncoderName,
  type EncoderManifest,
  type LatentSpace,
  type StyleManifest,
} from './manifest.ts';

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
}

/** Writes `demo-<size>-encoder`, `demo-<size>` and (see options) the W+ encoder into `out`. */
export async function writeDemoPacks(
  out: string,
  size: DemoSize,
  options: DemoPackOptions = {},
): Promise<DemoPacks> {
  const demo = demoCheckpoints({ size, seed: options.seed ?? 0 });
  const provenance: Provenance = { sources: [], licence: DEMO_LICENCE, demo: true };
  // pSp's checkpoint carries the FFHQ generator it was trained against; in the release its
  // mapping network is the one every style's generator froze, so the demo reuses the style's.
  const writeEncoder = (name: string, file: string, e: DemoEncoder, space: LatentSpace) => {
    const stateDict = new Map<string, LazyTensor>(e.stateDict);
    for (const [key, tensor] of demo.generator) {
      if (key.startsWith('generator.style.'))
        stateDict.set(`decoder.${key.slice('generator.'.length)}`, tensor);
    }
    return writeEncoderPack(
      out,
      name,
      { stateDict, latentAvg: e.latentAvg, file: `demo:${size}/${file}` },
      provenance,
      space,
    );
  };
  const encoder = await writeEncoder(demoEncoderName(size), 'encoder.pt', demo.encoder, 'z+');
  const encoderWPlus =
    (options.wPlus ?? size < 1024)
      ? await writeEncoder(
          wPlusEncoderName(demoEncoderName(size)),
          'encoder_wplus.pt',
          demo.encoderWPlus,
          'w+',
        )
      : undefined;
  const style = await writeStylePack(
    out,
    demoPackName(size),
    demoEncoderName(size),
    {
      generator: demo.generator,
      generatorFile: `demo:${size}/generator.pt`,
      sampler: { ...demo.sampler, file: `demo:${size}/sampler.pt` },
      codes: demo.exstyleCodes,
      codesFile: `demo:${size}/exstyle_code.npy`,
      codeTable: 'exstyle_code.npy',
    },
    provenance,
  );
  return { encoder, ...(encoderWPlus && { encoderWPlus }), style };
}
