/**
 * A second model family for tests: a "generator" that paints every pixel the same colour,
 * (-1, 0, 1) per channel, whatever the codes. It is registered through the public registry
 * only, to show a family plugs in without touching the engine. Its demo packs are
 * DualStyleGAN's files under a manifest that names the toy (it runs any pack's shapes).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  familyFor,
  formatStyleRef,
  UserError,
  type ModelFamily,
  type StyleModel,
} from '../../src/engine/index.ts';

export const TOY_ARCHITECTURE = 'toy-flat';

const notAStep = (): never => {
  throw new UserError('bad-option', 'the toy family has no exemplar, sampler or mapping');
};

const toy: ModelFamily = {
  architecture: TOY_ARCHITECTURE,
  async styleInputs({ req, manifest, codes, contentIsW }) {
    const n = manifest.nLatent;
    const inputs = codes.map((code) => ({
      content: code,
      contentIsW,
      exstyle: code,
      weights: new Array<number>(n).fill(1),
      truncation: 1,
    }));
    const reference = formatStyleRef({ kind: 'exemplar', pack: manifest.name, exemplar: 0 });
    const exemplar = { id: 0, name: manifest.exemplars[0]! };
    return { inputs, used: { pack: req.style.pack, kind: 'exemplar', exemplar, reference } };
  },
  async load(pack, encoder) {
    if (pack.manifest.kind !== 'style') throw new Error('not a style pack');
    const manifest = pack.manifest;
    const model: StyleModel = {
      manifest,
      encoder,
      acceptsW: false,
      provider: 'cpu',
      previewSize: undefined,
      exemplar: notAStep,
      sample: notAStep,
      map: notAStep,
      extrinsic: notAStep,
      preview: notAStep,
      async generate(batch) {
        const side = manifest.size;
        const plane = side * side;
        const data = new Float32Array(batch.length * 3 * plane);
        for (let b = 0; b < batch.length; b++) {
          for (let c = 0; c < 3; c++)
            data.fill(c - 1, (b * 3 + c) * plane, (b * 3 + c + 1) * plane);
        }
        return { dims: [batch.length, 3, side, side], data };
      },
      async dispose() {},
    };
    return model;
  },
  async warm() {},
  packs: {
    async demo(out, size, options) {
      const packs = await (await familyFor('dualstylegan')).packs!.demo(out, size, options);
      const file = join(out, packs.style.name, 'manifest.json');
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify({ ...manifest, architecture: TOY_ARCHITECTURE }));
      return { ...packs, style: { ...packs.style, architecture: TOY_ARCHITECTURE } };
    },
    importRelease: () =>
      Promise.reject(new UserError('bad-option', 'the toy family has no release')),
  },
};

export default toy;
