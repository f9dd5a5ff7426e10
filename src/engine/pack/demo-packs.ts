/**
 * `pastiche models demo`: packs of the official architecture with seeded random weights,
 * written through the same import code as real checkpoints. For tests, benchmarks and as the
 * offline fallback; their output is not a portrait.
 */
import type { LazyTensor } from '../checkpoint/tensor.ts';
import { demoCheckpoints, type DemoSize } from './demo.ts';
import { writeEncoderPack, writeStylePack, type Provenance } from './import.ts';
import { DEMO_LICENCE, type EncoderManifest, type StyleManifest } from './manifest.ts';

export const demoPackName = (size: DemoSize): string => `demo-${size}`;
export const demoEncoderName = (size: DemoSize): string => `demo-${size}-encoder`;

export interface DemoPacks {
  encoder: EncoderManifest;
  style: StyleManifest;
}

/** Writes `demo-<size>-encoder` and `demo-<size>` into `out`. */
export async function writeDemoPacks(out: string, size: DemoSize, seed = 0): Promise<DemoPacks> {
  const demo = demoCheckpoints({ size, seed });
  // pSp's checkpoint carries the FFHQ generator it was trained against; in the release its
  // mapping network is the one every style's generator froze, so the demo reuses the style's.
  const encoderDict = new Map<string, LazyTensor>(demo.encoder.stateDict);
  for (const [key, tensor] of demo.generator) {
    if (key.startsWith('generator.style.'))
      encoderDict.set(`decoder.${key.slice('generator.'.length)}`, tensor);
  }
  const provenance: Provenance = { sources: [], licence: DEMO_LICENCE, demo: true };
  const encoder = await writeEncoderPack(
    out,
    demoEncoderName(size),
    { stateDict: encoderDict, latentAvg: demo.encoder.latentAvg, file: `demo:${size}/encoder.pt` },
    provenance,
  );
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
  return { encoder, style };
}
