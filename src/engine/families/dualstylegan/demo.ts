/**
 * DualStyleGAN's demo packs: its demo weights (demo-weights.ts) written through the same code as
 * the official checkpoints, the shared encoder pack included.
 */
import type { LazyTensor } from '../../checkpoint/tensor.ts';
import {
  demoEncoderName,
  demoPackName,
  type DemoPackOptions,
  type DemoPacks,
  type DemoSize,
} from '../../pack/demo-packs.ts';
import { writeEncoderPack, type Provenance } from '../../pack/import.ts';
import { DEMO_LICENCE, wPlusEncoderName, type LatentSpace } from '../../pack/manifest.ts';
import { demoCheckpoints, type DemoEncoder } from './demo-weights.ts';
import { writeStylePack } from './style-pack.ts';

/** Writes `demo-<size>-encoder`, `demo-<size>` and (see options) the W+ encoder into `out`. */
export async function writeDemo(
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
