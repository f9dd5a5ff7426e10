/**
 * Turns checkpoints (official files or the demo's synthetic ones) into packs. The same two
 * functions serve both, so the demo packs exercise exactly the import path users run.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../checkpoint/errors.ts';
import type { LazyTensor, StateDict } from '../checkpoint/tensor.ts';
import { buildGenerator } from '../models/dualstylegan.ts';
import { Params } from '../models/params.ts';
import { previewSize, splitGenerator } from '../models/preview.ts';
import { buildEncoder, ENCODER_INPUT_SIZE } from '../models/psp.ts';
import { buildSampler } from '../models/sampler.ts';
import { buildMapping, synthesisLayout } from '../models/stylegan2.ts';
import {
  defaultWeights,
  readManifest,
  type EncoderManifest,
  type Manifest,
  type FileEntry,
  type LatentSpace,
  type StyleManifest,
} from './manifest.ts';
import { verifyPack } from './store.ts';
import { writePack, type PackWriter } from './write.ts';

/** Where a pack came from, recorded in its manifest. */
export interface Provenance {
  sources: FileEntry[];
  licence: string;
  demo: boolean;
}

/**
 * Runs `models verify` on the written pack before it is renamed into place. Imports of files
 * from elsewhere (official checkpoints) do; demo packs, which Pastiche makes itself, skip the
 * forward passes and keep the file checks every commit does.
 */
export interface WriteOptions {
  runGraphs?: boolean;
}

const verifyBeforeRename =
  (options: WriteOptions) =>
  async (dir: string, manifest: Manifest): Promise<void> => {
    if (options.runGraphs) await verifyPack({ dir, manifest });
  };

export interface EncoderSource {
  /** pSp's state dict: `encoder.*`, and `decoder.style.*` (the FFHQ mapping network). */
  stateDict: StateDict;
  /** Added to the encoder's output when the model was trained with `start_from_latent_avg`. */
  latentAvg: LazyTensor | undefined;
  file: string;
}

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

/** sha256 over the mapping network's weights in key order: equal digests, same network. */
function mappingDigest(p: Params): string {
  const hash = createHash('sha256');
  const depth = p.count('weight', 1);
  for (let i = 1; i <= depth; i++) {
    for (const key of [`${i}.weight`, `${i}.bias`]) {
      const { data } = p.get(key);
      hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  }
  return hash.digest('hex');
}

/**
 * Writes a shared pack: `encoder.onnx` and `mapping.onnx` (from pSp's FFHQ decoder). `space`
 * says what the codes are; nothing in a checkpoint does (the release tells by file name).
 */
export async function writeEncoderPack(
  out: string,
  name: string,
  source: EncoderSource,
  provenance: Provenance,
  space: LatentSpace,
  options: WriteOptions = {},
): Promise<EncoderManifest> {
  return writePack(out, name, async (w) => {
    const p = new Params(source.stateDict, source.file);
    const latentAvg = source.latentAvg && {
      shape: source.latentAvg.shape,
      data: source.latentAvg.float32(),
    };
    const encoder = w.graph('encoder');
    const layout = buildEncoder(encoder, p.at('encoder'), latentAvg);
    w.saveGraph('encoder', encoder);
    const mappingParams = p.at('decoder.style');
    const mapping = w.graph('mapping');
    const { styleDim } = buildMapping(mapping, mappingParams);
    w.saveGraph('mapping', mapping);
    p.expect('decoder.style.1.weight', 'style dim', styleDim, layout.styleDim);
    return w.commit<EncoderManifest>(
      {
        kind: 'encoder',
        name,
        space,
        ...provenance,
        nLatent: layout.nLatent,
        styleDim: layout.styleDim,
        inputSize: ENCODER_INPUT_SIZE,
        mappingDigest: mappingDigest(mappingParams),
      },
      verifyBeforeRename(options),
    );
  });
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
