/**
 * DualStyleGAN's style pack: which graphs it has (generator, its preview halves, the mapping when
 * not shared, the sampler) and how each is built from the `g_ema` checkpoint, with the exemplar
 * code table and the stored noise.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../../checkpoint/errors.ts';
import type { LazyTensor, StateDict } from '../../checkpoint/tensor.ts';
import { buildGenerator } from '../../models/dualstylegan.ts';
import { Params } from '../../models/params.ts';
import { previewSize, splitGenerator } from '../../models/preview.ts';
import { buildSampler } from '../../models/sampler.ts';
import { buildMapping, synthesisLayout } from '../../models/stylegan2.ts';
import {
  mappingDigest,
  verifyBeforeRename,
  type Provenance,
  type WriteOptions,
} from '../../pack/import.ts';
import { defaultWeights, readManifest, type StyleManifest } from '../../pack/manifest.ts';
import { writePack, type PackWriter } from '../../pack/write.ts';

export interface StyleSource {
  /** DualStyleGAN's `g_ema` state dict. */
  generator: StateDict;
  generatorFile: string;
  sampler?: { structure: StateDict; color: StateDict; file: string };
  /** Exemplar name → z+ code [1,n,D] (or [n,D]), in style-id order. */
  codes: ReadonlyMap<string, LazyTensor>;
  codesFile: string;
  codeTable: string;
}

/** Concatenates the exemplar codes into one [count, n, D] float32 table. */
function codeTable(source: StyleSource, nLatent: number, styleDim: number): Uint8Array {
  const row = nLatent * styleDim;
  const table = new Float32Array(source.codes.size * row);
  let i = 0;
  for (const [key, code] of source.codes) {
    const dims = code.shape.filter(
      (d, axis) => !(axis === 0 && d === 1 && code.shape.length === 3),
    );
    if (dims.length !== 2 || dims[0] !== nLatent || dims[1] !== styleDim) {
      throw new CheckpointError(
        'bad-shape',
        source.codesFile,
        `code ${key} has shape [${code.shape.join(',')}], expected [1,${nLatent},${styleDim}]`,
      );
    }
    table.set(code.float32(), i++ * row);
  }
  if (i === 0) throw new CheckpointError('bad-format', source.codesFile, 'the code table is empty');
  return new Uint8Array(table.buffer);
}

/**
 * The checkpoint's fixed noise buffers, concatenated: the generator's default noise inputs.
 * Every dimension of each is checked before anything is read: `[1, 1, s, s]` with `s` the
 * resolution of its StyledConv (the first at the constant input's size, then two per doubling),
 * so a crafted buffer cannot make noise.bin larger than the graph consumes.
 */
function checkNoiseShapes(p: Params, sizes: readonly number[]): void {
  const first = sizes[0] ?? 0;
  sizes.forEach((s, i) => {
    const key = `generator.noises.noise_${i}`;
    const shape = p.shape(key, 4);
    const expected = [1, 1, s, s];
    const side = first * 2 ** Math.floor((i + 1) / 2);
    if (s !== side || shape.some((d, axis) => d !== expected[axis])) {
      throw new CheckpointError(
        'bad-shape',
        p.file,
        `${key} has shape [${shape.join(', ')}], expected [1, 1, ${side}, ${side}]`,
      );
    }
  });
}

function noiseBuffers(p: Params, sizes: readonly number[]): Uint8Array {
  const buffers = sizes.map((_, i) => p.get(`generator.noises.noise_${i}`, 4).data);
  const out = new Float32Array(buffers.reduce((a, b) => a + b.length, 0));
  let offset = 0;
  for (const b of buffers) {
    out.set(b, offset);
    offset += b.length;
  }
  return new Uint8Array(out.buffer);
}

/**
 * The generator cut after its ToRGB at a quarter of the output side, for the instant preview;
 * none below 32² (no ToRGB a quarter the side to cut at). Returns the preview's side.
 */
function writePreviewGraphs(w: PackWriter, size: number): number | undefined {
  const side = previewSize(size);
  if (side < 8) return undefined;
  const { head, tail } = splitGenerator(readFileSync(join(w.dir, 'generator.onnx')), side);
  w.writeFile('generator-head.onnx', head);
  w.writeFile('generator-tail.onnx', tail);
  return side;
}

/**
 * Writes one style pack: `generator.onnx`, `sampler.onnx` (when the style has a sampler),
 * `codes.bin`, `noise.bin`, and `mapping.onnx` only when the style's mapping network differs from the one
 * in the shared encoder pack `encoderPack` (found in `out`).
 */
export async function writeStylePack(
  out: string,
  name: string,
  encoderPack: string,
  source: StyleSource,
  provenance: Provenance,
  options: WriteOptions = {},
): Promise<StyleManifest> {
  return writePack(out, name, async (w) => {
    const p = new Params(source.generator, source.generatorFile);
    // Shapes first: nothing is written for a checkpoint whose noise buffers do not fit.
    checkNoiseShapes(p, synthesisLayout(p.at('generator')).noiseSizes);
    const generator = w.graph('generator');
    const layout = buildGenerator(generator, p);
    w.saveGraph('generator', generator);
    const preview = writePreviewGraphs(w, layout.size);

    const mappingParams = p.at('generator.style');
    const sharedDir = join(out, encoderPack);
    const shared = existsSync(sharedDir) ? readManifest(sharedDir) : undefined;
    const ownMapping =
      shared?.kind !== 'encoder' || shared.mappingDigest !== mappingDigest(mappingParams);
    if (ownMapping) {
      const mapping = w.graph('mapping');
      buildMapping(mapping, mappingParams);
      w.saveGraph('mapping', mapping);
    }

    let samplerZDim: number | undefined;
    if (source.sampler) {
      const sampler = w.graph('sampler');
      const { structure, color, file } = source.sampler;
      ({ zDim: samplerZDim } = buildSampler(
        sampler,
        new Params(structure, file),
        new Params(color, file),
        layout.styleDim,
        layout.nStructure,
      ));
      w.saveGraph('sampler', sampler);
    }

    w.writeFile('codes.bin', codeTable(source, layout.nLatent, layout.styleDim));
    w.writeFile('noise.bin', noiseBuffers(p, layout.noiseSizes));
    return w.commit<StyleManifest>(
      {
        kind: 'style',
        architecture: 'dualstylegan',
        name,
        ...provenance,
        encoder: encoderPack,
        nLatent: layout.nLatent,
        styleDim: layout.styleDim,
        size: layout.size,
        nStructure: layout.nStructure,
        noiseSizes: layout.noiseSizes,
        exemplars: [...source.codes.keys()],
        codeTable: source.codeTable,
        defaults: defaultWeights(name, layout.nLatent, layout.nStructure),
        hasSampler: source.sampler !== undefined,
        ownMapping,
        ...(samplerZDim === undefined ? {} : { samplerZDim }),
        ...(preview === undefined ? {} : { previewSize: preview }),
      },
      verifyBeforeRename(options),
    );
  });
}
