/**
 * A style pack and its encoder pack, loaded into ONNX Runtime sessions: the model-facing half of
 * the engine (latent codes in, pixels out). Knows nothing about photos, users or queues.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { arch, cpus } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import type { EncoderManifest, LatentSpace, StyleManifest } from '../pack/manifest.ts';
import { generatorSettings, type ParsedRequest } from '../request.ts';
import type { InstalledPack } from '../pack/store.ts';
import { seededNoise, storedNoise, type NoiseFeeds } from '../pack/noise.ts';
import { createRng } from '../random.ts';
import { PREVIEW_OUTPUT } from '../models/preview.ts';
import {
  Model,
  RUNTIME_VERSION,
  type Provider,
  type SessionOptions,
  type TensorData,
} from './session.ts';

/** One image to generate: rows of [n·D]; weights one per slot. */
export interface GenerateInput {
  /** The face's code: z+ (the graph maps and truncates it), or W+ (only truncated). */
  content: Float32Array;
  /** Whether `content` is W+ (from the W+ "identity" encoder). */
  contentIsW: boolean;
  /** The exemplar's W+ code: from {@link LoadedStyle.extrinsic}. */
  exstyle: Float32Array;
  weights: readonly number[];
  truncation: number;
}

const fileSize = (dir: string, name: string): number => statSync(join(dir, name)).size;

/** The generator cut after its preview ToRGB (see models/preview.ts): head, then tail. */
interface SplitGenerator {
  head: Model;
  tail: Model;
}

/** The feeds a graph declares, out of a larger set (the halves take different noise inputs). */
function feedsFor(model: Model, feeds: Record<string, TensorData>): Record<string, TensorData> {
  return Object.fromEntries(
    model.inputs.flatMap((p) => (feeds[p.name] ? [[p.name, feeds[p.name]!]] : [])),
  );
}

/** Bytes of weights a pack's graphs hold, to budget the pack LRU. */
export function packWeightBytes(pack: InstalledPack): number {
  return pack.manifest.files
    .filter((f) => f.name.endsWith('.onnx.data'))
    .reduce((a, f) => a + f.size, 0);
}

/**
 * The encoder at ONNX Runtime's fastest CPU layout (NCHWc: 0.53 instead of 0.65 s a photo at
 * 1024, measured) without its cost: a session at 'all' keeps a second, re-laid-out copy of the
 * 1 GB of weights (RSS 2.26 vs 1.24 GB) and loads in 8.8 instead of 0.3 s. So the optimized
 * graph is saved once per CPU and weights, beside the pack (`.optimized/`), and later loads read
 * it with optimization off: one copy, fast load. Where it cannot be written (a read-only models
 * directory) or on a GPU, the encoder runs at 'extended', as before.
 */
async function loadEncoderGraph(pack: InstalledPack, options: SessionOptions): Promise<Model> {
  const source = join(pack.dir, 'encoder.onnx');
  if ((options.device ?? 'cpu') !== 'cpu') return Model.load(source, options);
  const weights = pack.manifest.files.find((f) => f.name === 'encoder.onnx.data')?.sha256 ?? '';
  const key = createHash('sha256')
    .update(`${cpus()[0]?.model}|${arch()}|${RUNTIME_VERSION}|${weights}`)
    .digest('hex')
    .slice(0, 16);
  const dir = join(pack.dir, '..', '.optimized', pack.manifest.name);
  const tuned = join(dir, `encoder-${key}.onnx`);
  try {
    if (!existsSync(tuned)) {
      mkdirSync(dir, { recursive: true });
      // The graph is written under a temporary name and renamed last, so a half-written one is
      // never loaded; its weights file is this writer's own, so two processes cannot mix theirs.
      const id = randomBytes(4).toString('hex');
      const partial = join(dir, `partial-${key}-${id}.onnx`);
      await Model.saveOptimized(source, partial, `encoder-${key}-${id}.onnx.data`, options);
      renameSync(partial, tuned);
    }
    return await Model.load(tuned, { ...options, optimization: 'none' });
  } catch {
    return Model.load(source, { ...options, optimization: 'extended' });
  }
}

export class LoadedEncoder {
  private constructor(
    readonly manifest: EncoderManifest,
    readonly encoder: Model,
    readonly mapping: Model,
  ) {}

  static async load(pack: InstalledPack, options: SessionOptions): Promise<LoadedEncoder> {
    if (pack.manifest.kind !== 'encoder')
      throw new Error(`${pack.manifest.name} is not an encoder pack`);
    const [encoder, mapping] = await Promise.all([
      loadEncoderGraph(pack, options),
      Model.load(join(pack.dir, 'mapping.onnx'), options),
    ]);
    return new LoadedEncoder(pack.manifest, encoder, mapping);
  }

  /** z+ (the generator maps the codes) or W+ (used as they are). */
  get space(): LatentSpace {
    return this.manifest.space;
  }

  /** Aligned 256² RGB crops (HWC uint8) → content codes [B, n·D] in {@link space}. */
  async encode(crops: readonly Uint8Array[]): Promise<Float32Array[]> {
    const size = this.manifest.inputSize;
    const plane = size * size;
    const image = new Float32Array(crops.length * 3 * plane);
    crops.forEach((crop, b) => {
      if (crop.length !== plane * 3)
        throw new RangeError(`crop has ${crop.length} bytes, expected ${plane * 3}`);
      // HWC uint8 → NCHW in [-1, 1], as pSp's transforms.Normalize([0.5]*3, [0.5]*3) does.
      for (let i = 0; i < plane; i++) {
        for (let c = 0; c < 3; c++)
          image[(b * 3 + c) * plane + i] = (crop[i * 3 + c]! / 255) * 2 - 1;
      }
    });
    const { codes } = await this.encoder.run({
      image: { dims: [crops.length, 3, size, size], data: image },
    });
    const row = this.manifest.nLatent * this.manifest.styleDim;
    return crops.map((_, b) => codes!.data.slice(b * row, (b + 1) * row));
  }

  async dispose(): Promise<void> {
    await Promise.all([this.encoder.dispose(), this.mapping.dispose()]);
  }
}

export class LoadedStyle {
  private constructor(
    readonly manifest: StyleManifest,
    readonly encoder: LoadedEncoder,
    /** The whole generator, or its two halves where the pack has a preview. */
    private readonly generator: Model | SplitGenerator,
    private readonly mapping: Model,
    private readonly ownMapping: boolean,
    private readonly sampler: Model | undefined,
    /** Exemplar z+ codes, [count, n, D]. */
    readonly codes: Float32Array,
    /** The checkpoint's noise buffers: the default, so results are deterministic and cacheable. */
    private readonly noise: NoiseFeeds,
  ) {}

  /** Whether the generator takes W+ content codes (packs made before that feature do not). */
  get acceptsW(): boolean {
    const g = this.generator;
    // The content code enters through the head: the tail takes the mapped codes from it.
    return (g instanceof Model ? g : g.head).inputs.some((p) => p.name === 'content_is_w');
  }

  static async load(
    pack: InstalledPack,
    encoder: LoadedEncoder,
    options: SessionOptions,
  ): Promise<LoadedStyle> {
    const m = pack.manifest;
    if (m.kind !== 'style') throw new Error(`${m.name} is not a style pack`);
    if (m.nLatent !== encoder.manifest.nLatent || m.styleDim !== encoder.manifest.styleDim) {
      throw new Error(
        `${m.name} (n=${m.nLatent}, D=${m.styleDim}) does not fit encoder ${encoder.manifest.name}`,
      );
    }
    const load = (graph: string) => Model.load(join(pack.dir, `${graph}.onnx`), options);
    // The halves hold the generator's weights once between them (they share generator.onnx.data),
    // so a pack with a preview loads them instead of the whole graph, not as well. Each keeps an
    // arena of its own: without the head's the host's peak is 64 MB lower, but the head took
    // 1.05–1.14× as long and a generation 1.39× in one-process comparisons (README, Benchmarks).
    // `preview: false` (engine.preview) trades the first look for the whole graph's ~5%.
    const generator =
      m.previewSize === undefined || options.preview === false
        ? await load('generator')
        : { head: await load('generator-head'), tail: await load('generator-tail') };
    const mapping = m.ownMapping ? await load('mapping') : encoder.mapping;
    const sampler = m.hasSampler ? await load('sampler') : undefined;
    const bytes = readFileSync(join(pack.dir, 'codes.bin'));
    const codes = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const expected = m.exemplars.length * m.nLatent * m.styleDim;
    if (codes.length !== expected || fileSize(pack.dir, 'codes.bin') !== expected * 4) {
      throw new Error(`${m.name}/codes.bin holds ${codes.length} values, expected ${expected}`);
    }
    const noise = storedNoise(pack.dir, m.noiseSizes);
    return new LoadedStyle(m, encoder, generator, mapping, m.ownMapping, sampler, codes, noise);
  }

  /** The execution provider the generator runs on. */
  get provider(): Provider {
    const g = this.generator;
    return g instanceof Model ? g.provider : g.head.provider;
  }

  /** Side of {@link preview}'s image, or undefined for a pack imported without a preview. */
  get previewSize(): number | undefined {
    return this.generator instanceof Model ? undefined : this.manifest.previewSize;
  }

  get rowLength(): number {
    return this.manifest.nLatent * this.manifest.styleDim;
  }

  /** The z+ code of exemplar `id`. */
  exemplar(id: number): Float32Array {
    if (!Number.isInteger(id) || id < 0 || id >= this.manifest.exemplars.length) {
      throw new UserError(
        'unknown-exemplar',
        `${this.manifest.name} has exemplars 0–${this.manifest.exemplars.length - 1}`,
      );
    }
    return this.codes.slice(id * this.rowLength, (id + 1) * this.rowLength);
  }

  /**
   * A sampled z+ style code: structure rows from N(0,1) seeded by `structureSeed`, colour rows
   * from `colorSeed` (the same seed for both gives the reference's shared draw).
   */
  async sample(structureSeed: string, colorSeed: string): Promise<Float32Array> {
    if (!this.sampler || !this.manifest.samplerZDim)
      throw new UserError('no-sampler', this.manifest.name);
    const zDim = this.manifest.samplerZDim;
    const draw = (seed: string) => createRng(`sampler:${seed}`).fillNormal(new Float32Array(zDim));
    const same = structureSeed === colorSeed;
    const z = new Float32Array(2 * zDim);
    z.set(draw(structureSeed), 0);
    z.set(same ? z.subarray(0, zDim) : draw(colorSeed), zDim);
    const { structure, color } = await this.sampler.run({ z: { dims: [2, zDim], data: z } });
    const d = this.manifest.styleDim;
    const nS = this.manifest.nStructure;
    const code = new Float32Array(this.rowLength);
    code.set(structure!.data.subarray(0, nS * d), 0);
    code.set(color!.data.subarray((this.manifest.nLatent - nS) * d), nS * d);
    return code;
  }

  /** Maps z+ rows to W+ with the network this style's codes were made for. */
  async map(zPlus: Float32Array): Promise<Float32Array> {
    const d = this.manifest.styleDim;
    const { w } = await this.mapping.run({ z: { dims: [zPlus.length / d, d], data: zPlus } });
    return w!.data;
  }

  /**
   * The generator's `exstyle`: an exemplar's z+ code mapped to W+. With `keepColour`, the colour
   * slots (nStructure…) come from the face's content code instead, as the reference's
   * preserve_color does: a z+ face code replaces the z+ rows before the mapping, a W+ one the
   * mapped rows after it (`style_transfer.py --wplus`).
   */
  async extrinsic(
    exemplar: Float32Array,
    keepColour?: { content: Float32Array; contentIsW: boolean },
  ): Promise<Float32Array> {
    const from = this.manifest.nStructure * this.manifest.styleDim;
    const z = exemplar.slice();
    if (keepColour && !keepColour.contentIsW) z.set(keepColour.content.subarray(from), from);
    const w = await this.map(z);
    if (keepColour?.contentIsW) w.set(keepColour.content.subarray(from), from);
    return w;
  }

  /**
   * One face's generator input, as a request asks for it: {@link generatorSettings} (as the
   * engine computes them) and the exemplar mapped with or without preserve colour (as the
   * inference host does). The parity tests run the golden cases through it.
   */
  async input(
    content: { code: Float32Array; isW: boolean },
    exemplar: Float32Array,
    req: Pick<ParsedRequest, 'structure' | 'color' | 'weights' | 'truncation' | 'preserveColor'>,
  ): Promise<GenerateInput> {
    const { weights, truncation, keepColour } = generatorSettings(req, this.manifest, content);
    return {
      content: content.code,
      contentIsW: content.isW,
      exstyle: await this.extrinsic(exemplar, keepColour),
      weights,
      truncation,
    };
  }

  /**
   * Generates a batch; returns raw network output [B, 3, S, S]. `noiseSeed` replaces the stored
   * noise buffers with fresh N(0,1) noise drawn from that seed. Where the pack has a preview,
   * `onPreview` gets it ([B, 3, s, s], s = {@link previewSize}) as soon as it is ready, while
   * the rest of the generator runs; it costs nothing extra.
   */
  async generate(
    batch: readonly GenerateInput[],
    noiseSeed?: string,
    onPreview?: (preview: TensorData) => void,
  ): Promise<TensorData> {
    const feeds = this.feeds(batch, noiseSeed);
    const g = this.generator;
    if (g instanceof Model) return (await g.run(feeds)).image!;
    const { [PREVIEW_OUTPUT]: preview, ...handover } = await g.head.run(feedsFor(g.head, feeds));
    onPreview?.(preview!);
    const { image } = await g.tail.run({ ...feedsFor(g.tail, feeds), ...handover });
    return image!;
  }

  /**
   * The first look alone: the generator's RGB at {@link previewSize}², [B, 3, s, s], for about
   * half the generator's work at 1024². Throws for a pack imported before previews existed.
   */
  async preview(batch: readonly GenerateInput[], noiseSeed?: string): Promise<TensorData> {
    const g = this.generator;
    if (g instanceof Model) {
      throw new Error(
        `${this.manifest.name} has no preview graph loaded (imported before previews, or engine.preview is off)`,
      );
    }
    const out = await g.head.run(feedsFor(g.head, this.feeds(batch, noiseSeed)));
    return out[PREVIEW_OUTPUT]!;
  }

  private feeds(batch: readonly GenerateInput[], noiseSeed?: string): Record<string, TensorData> {
    const { nLatent: n, styleDim: d } = this.manifest;
    const b = batch.length;
    const content = new Float32Array(b * n * d);
    const exstyle = new Float32Array(b * n * d);
    const weights = new Float32Array(b * n);
    const truncation = new Float32Array(b);
    const contentIsW = new Float32Array(b);
    batch.forEach((item, i) => {
      content.set(item.content, i * n * d);
      exstyle.set(item.exstyle, i * n * d);
      weights.set(item.weights, i * n);
      truncation[i] = item.truncation;
      contentIsW[i] = item.contentIsW ? 1 : 0;
    });
    if (!this.acceptsW && contentIsW.includes(1)) {
      throw new UserError(
        'no-identity-encoder',
        `${this.manifest.name} was built before W+ content codes: import it again`,
      );
    }
    const noise =
      noiseSeed === undefined ? this.noise : seededNoise(noiseSeed, this.manifest.noiseSizes);
    return {
      content: { dims: [b, n, d], data: content },
      exstyle: { dims: [b, n, d], data: exstyle },
      weights: { dims: [b, n], data: weights },
      truncation: { dims: [b], data: truncation },
      ...(this.acceptsW && { content_is_w: { dims: [b], data: contentIsW } }),
      ...noise,
    };
  }

  async dispose(): Promise<void> {
    const g = this.generator;
    await Promise.all([
      ...(g instanceof Model ? [g.dispose()] : [g.head.dispose(), g.tail.dispose()]),
      this.sampler?.dispose(),
      this.ownMapping ? this.mapping.dispose() : undefined,
    ]);
  }
}
