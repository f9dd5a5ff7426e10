/**
 * DualStyleGAN (Yang et al., CVPR 2022): a face's content code and an exemplar's style code,
 * mixed per slot by structure and colour weights. Its packs: style-pack.ts (the graphs of a
 * style pack), release.ts (the official checkpoints), demo.ts and demo-weights.ts (seeded
 * random weights in the release's layout).
 */
import { LoadedStyle } from '../../runtime/loaded.ts';
import type { ModelFamily, StyleModel } from '../types.ts';
import { styleInputs } from './styles.ts';

// Two runs: ONNX Runtime's arena grows on the first and settles on the second.
const WARMUP_RUNS = 2;

const dualStyleGan: ModelFamily = {
  architecture: 'dualstylegan',
  styleInputs,
  load: (pack, encoder, options) => LoadedStyle.load(pack, encoder, options),
  async warm(style: StyleModel): Promise<void> {
    const { nLatent: n } = style.manifest;
    const code = style.exemplar(0);
    const input = {
      content: code,
      contentIsW: false,
      exstyle: await style.extrinsic(code),
      weights: new Array<number>(n).fill(0.5),
      truncation: 0.7,
    };
    for (let i = 0; i < WARMUP_RUNS; i++) await style.generate([input]);
    if (style.manifest.hasSampler) await style.sample('warmup', 'warmup');
  },
  packs: {
    demo: async (out, size, options) => (await import('./demo.ts')).writeDemo(out, size, options),
    importRelease: async (dir, options) =>
      (await import('./release.ts')).importRelease(dir, options),
  },
};

export default dualStyleGan;
