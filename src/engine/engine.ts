/**
 * The engine: photo in, stylized portrait out. The one object every adapter (CLI, playground,
 * Discord, Slack) talks to; it knows nothing about chat platforms.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { cpus } from 'node:os';
import { NoFaceError, UserError } from './errors.ts';
import { encodeImage, encodeRgbImage, toRgb, type EncodedImage } from './image/encode.ts';
import { composeTiles } from './image/compose.ts';
import { decodeImage, type RgbImage } from './image/decode.ts';
import { pasteFaces } from './image/paste.ts';
import { blendCodes } from './fusion.ts';
import { formatStyleRef, type ReferableStyle } from './style-ref.ts';
import type { StyleManifest } from './pack/manifest.ts';
import { createRng } from './random.ts';
import {
  allowedSizes,
  parseRequest,
  slotWeights,
  type EncoderChoice,
  type ParsedRequest,
  type StyleChoice,
  type StylePart,
  type StylizeRequest,
} from './request.ts';
import { ModelPool } from './runtime/pool.ts';
import type { GenerateInput, LoadedEncoder, LoadedStyle } from './runtime/loaded.ts';
import type { TensorData } from './runtime/session.ts';
import { warmUpFaces } from './face/index.ts';
import {
  encodeFace,
  encodeFaces,
  type FaceInfo,
  type FaceOptions,
  type PhotoLimits,
} from './photo.ts';
import { createLatentCache, type LatentCache } from './cache/latents.ts';
import { Scheduler } from './scheduler.ts';
import type { BatchItem, JobContext, JobHandle } from './scheduler/types.ts';

/** Per-stage wall time in milliseconds. */
export type Timings = Partial<
  Record<
    | 'load'
    | 'decode'
    | 'detect'
    | 'align'
    | 'encode'
    | 'sample'
    | 'map'
    | 'generate'
    | 'paste'
    | 'output',
    number
  >
>;

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

interface Content {
  code: Float32Array;
  /** The encoder that made `code`; none for a random face (a z code). */
  encoder?: EncoderChoice;
  isW: boolean;
  photoKey?: string;
  face?: FaceInfo;
  cacheHit: boolean;
}

interface Prepared {
  req: ParsedRequest;
  style: LoadedStyle;
  size: number;
  content: Content;
  used: StyleUsed;
  /** One per image to generate: a face of the photo, or a tile. */
  inputs: GenerateInput[];
  tiles?: StyleUsed[];
  /** For `output: photo`: the photo and the faces to paste, one per input. */
  paste?: { photo: RgbImage; faces: FaceInfo[]; skipped: number };
  timings: Timings;
}

export interface EngineOptions {
  modelsDir: string;
  /** keyv store URL: 'memory', 'sqlite://path' or 'redis://…' (default memory). */
  cacheUrl?: string;
  cacheTtlMs?: number;
  /** ONNX Runtime threads per operator (default: all cores). */
  threads?: number;
  /** Weight bytes of style packs kept loaded (default 2 GB). */
  memoryBudgetBytes?: number;
  warmup?: boolean;
  maxQueue?: number;
  jobTimeoutMs?: number;
  /** Generator calls merged into one batch at most (1 disables batching). */
  maxBatch?: number;
  /** The encoder for requests that do not name one (default `style`). */
  encoder?: EncoderChoice;
  photo?: PhotoLimits;
  face?: FaceOptions;
  /** Faces stylized at most in a group photo (`faces: all`); default 6. */
  maxFaces?: number;
  /** Longer side of a pasted-back whole photo at most; default 2048. */
  pasteMaxSide?: number;
}

/**
 * What callers use of an engine: the in-process {@link Engine}, or the queue-mode facade that
 * sends jobs to `pastiche worker`s (src/queue/remote-engine.ts).
 */
export type EngineApi = Pick<
  Engine,
  'submit' | 'stylize' | 'styles' | 'forget' | 'preload' | 'close'
>;

/** A pack as users see it. */
export interface StyleInfo {
  name: string;
  size: number;
  exemplars: readonly string[];
  defaults: StyleManifest['defaults'];
  hasSampler: boolean;
  demo: boolean;
  licence: string;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export class Engine {
  private constructor(
    private readonly options: EngineOptions,
    private readonly pool: ModelPool,
    private readonly cache: LatentCache,
    private readonly scheduler: Scheduler<StylizeResult>,
  ) {}

  static async create(options: EngineOptions): Promise<Engine> {
    const pool = new ModelPool({
      modelsDir: options.modelsDir,
      budgetBytes: options.memoryBudgetBytes ?? 2 * 1024 ** 3,
      session: { threads: options.threads ?? cpus().length },
      warmup: options.warmup ?? true,
    });
    const cache = await createLatentCache({
      url: options.cacheUrl ?? 'memory',
      ...(options.cacheTtlMs !== undefined && { ttlMs: options.cacheTtlMs }),
    });
    const scheduler = new Scheduler<StylizeResult>({
      maxQueue: options.maxQueue ?? 100,
      maxBatch: options.maxBatch ?? 1,
      defaultTimeoutMs: options.jobTimeoutMs ?? 120_000,
    });
    return new Engine(options, pool, cache, scheduler);
  }

  /** Installed style packs. */
  styles(): StyleInfo[] {
    return this.pool.stylePacks().flatMap(({ manifest: m }) =>
      m.kind === 'style'
        ? [
            {
              name: m.name,
              size: m.size,
              exemplars: m.exemplars,
              defaults: m.defaults,
              hasSampler: m.hasSampler,
              demo: m.demo,
              licence: m.licence,
            },
          ]
        : [],
    );
  }

  /** Loads a style (and its encoder) and the face models ahead of the first request. */
  async preload(pack: string): Promise<void> {
    const style = await this.pool.style(pack);
    await warmUpFaces(this.options.face);
    // The default encoder too, so the first photo does not wait for its gigabyte of weights.
    if (this.options.encoder === 'identity') await this.pool.identityEncoder(style);
  }

  /**
   * Queues a request. The handle reports queue position and stages, and can cancel. Throws a
   * {@link UserError} at once for an invalid request or a full queue.
   *
   * @example
   * const job = engine.submit({ userId: 'u1', face: { kind: 'photo', bytes }, style: { kind: 'exemplar', pack: 'cartoon', exemplar: 26 } });
   * job.on('queued', ({ position }) => console.log(position));
   * const { image } = await job.result;
   */
  submit(request: StylizeRequest): JobHandle<StylizeResult> {
    const parsed = parseRequest(request);
    return this.scheduler.submit({
      userId: parsed.userId,
      priority: parsed.priority,
      // Fresh noise is one set per generator call, so only jobs with the same noise share a batch.
      batch: {
        key: `${parsed.style.pack}:${parsed.noiseSeed ?? 'stored'}`,
        input: parsed,
        runner: this.runBatch,
      },
    });
  }

  /** Submits and waits. */
  async stylize(request: StylizeRequest): Promise<StylizeResult> {
    return this.submit(request).result;
  }

  /** Removes everything cached for a user. */
  async forget(userId: string): Promise<number> {
    return this.cache.forget(userId);
  }

  async close(): Promise<void> {
    this.scheduler.close();
    await this.pool.close();
    await this.cache.close();
  }

  /**
   * Runs compatible jobs (same pack, same noise) as one generator batch; each job's own steps
   * (decode, align, encode, sample, image encoding) run per job, and a failure stays its own.
   */
  private readonly runBatch = async (
    items: readonly BatchItem<ParsedRequest>[],
  ): Promise<(StylizeResult | Error)[]> => {
    const results: (StylizeResult | Error)[] = new Array(items.length);
    const ready: { index: number; prepared: Prepared }[] = [];
    for (const [index, item] of items.entries()) {
      try {
        ready.push({ index, prepared: await this.prepare(item.input, item) });
      } catch (error) {
        results[index] = error instanceof Error ? error : new Error(String(error));
      }
    }
    if (ready.length === 0) return results;
    const style = ready[0]!.prepared.style;
    for (const { index } of ready) items[index]!.stage('generating');
    const start = performance.now();
    let raw: TensorData;
    // Every job's faces and tiles in one generator call.
    const inputs = ready.flatMap((r) => r.prepared.inputs);
    try {
      raw = await style.generate(inputs, items[ready[0]!.index]!.input.noiseSeed);
    } catch (error) {
      for (const { index } of ready) results[index] = error as Error;
      return results;
    }
    const generateMs = performance.now() - start;
    let offset = 0;
    for (const { index, prepared } of ready) {
      try {
        prepared.timings.generate = generateMs;
        results[index] = await this.finish(prepared, raw, offset, inputs.length);
      } catch (error) {
        results[index] = error as Error;
      }
      offset += prepared.inputs.length;
    }
    return results;
  };

  /** Everything up to the generator: model, content code, exemplar code (mapped), weights. */
  private async prepare(req: ParsedRequest, ctx: JobContext): Promise<Prepared> {
    const timings: Timings = {};
    const time = async <T>(stage: keyof Timings, step: () => Promise<T> | T): Promise<T> => {
      const start = performance.now();
      try {
        return await step();
      } finally {
        timings[stage] = (timings[stage] ?? 0) + performance.now() - start;
      }
    };
    const style = await time('load', () => this.pool.style(req.style.pack));
    const m = style.manifest;
    const size = req.size ?? m.size;
    if (!allowedSizes(m.size).includes(size)) {
      throw new UserError('bad-option', `size must be one of ${allowedSizes(m.size).join(', ')}`);
    }
    ctx.signal.throwIfAborted();
    const group = req.faces === 'all' ? await this.allFaces(req, style, ctx, time) : undefined;
    const content = group?.content ?? (await this.content(req, style, ctx, time));
    const codes = group?.codes ?? [content.code];
    const styles = [req.style, ...(req.variants ?? [])];
    const exstyles = [];
    for (const choice of styles) exstyles.push(await this.exstyle(req, choice, style, ctx, time));
    const weights = slotWeights(req, m.defaults, m.nLatent, m.nStructure);
    // The reconstruction is the encoder's face as it is: no pull toward the average face.
    const truncation = req.truncation ?? (req.reconstruct ? 1 : m.defaults.truncation);
    const contentIsW = content.isW;
    const inputs: GenerateInput[] = [];
    for (const exstyle of exstyles) {
      for (const code of codes) {
        const keepColour = req.preserveColor ? { content: code, contentIsW } : undefined;
        const mapped = await time('map', () => style.extrinsic(exstyle.code, keepColour));
        inputs.push({ content: code, contentIsW, exstyle: mapped, weights, truncation });
      }
    }
    ctx.signal.throwIfAborted();
    const paste =
      req.output === 'photo' || req.faces === 'all'
        ? await this.pasteTarget(req, content, group, time)
        : undefined;
    return {
      req,
      style,
      size,
      content,
      used: exstyles[0]!.used,
      inputs,
      ...(req.variants && { tiles: exstyles.map((e) => e.used) }),
      ...(paste && { paste }),
      timings,
    };
  }

  /** The photo's pixels and where its faces are, for pasting results back. */
  private async pasteTarget(
    req: ParsedRequest,
    content: Content,
    group: { faces: FaceInfo[]; skipped: number } | undefined,
    time: <T>(stage: keyof Timings, step: () => Promise<T> | T) => Promise<T>,
  ): Promise<NonNullable<Prepared['paste']>> {
    // The engine keeps codes, never photos: pasting back needs the photo itself again.
    if (req.face.kind !== 'photo')
      throw new UserError('photo-needed', 'paste-back needs the photo');
    const bytes = req.face.bytes;
    const photo = await time('decode', () => decodeImage(bytes, this.options.photo));
    const faces = group?.faces ?? (content.face ? [content.face] : []);
    return { photo, faces, skipped: group?.skipped ?? 0 };
  }

  private async finish(
    p: Prepared,
    raw: TensorData,
    index: number,
    batchSize: number,
  ): Promise<StylizeResult> {
    const image = await this.output(p, raw, index);
    return {
      image,
      ...(p.content.photoKey !== undefined && { photoKey: p.content.photoKey }),
      ...(p.content.face && { face: p.content.face }),
      style: p.used,
      weights: [...p.inputs[0]!.weights],
      truncation: p.inputs[0]!.truncation,
      preserveColor: p.req.preserveColor,
      ...(p.content.encoder && { encoder: p.content.encoder }),
      ...(p.req.noiseSeed !== undefined && { noiseSeed: p.req.noiseSeed }),
      cacheHit: p.content.cacheHit,
      batchSize,
      ...(p.tiles && { tiles: p.tiles }),
      ...(p.paste && { faces: p.paste.faces, skippedFaces: p.paste.skipped }),
      timings: p.timings,
    };
  }

  /** The job's images (from `offset` in the batch) as one file: a crop, a grid, or the photo. */
  private async output(p: Prepared, raw: TensorData, offset: number): Promise<EncodedImage> {
    const file = { format: p.req.format, quality: p.req.quality };
    const rgbs = p.inputs.map((_, i) => toRgb(raw, offset + i));
    if (p.paste) {
      const { photo, faces } = p.paste;
      let start = performance.now();
      const whole = await pasteFaces(
        photo,
        faces.map((face, i) => ({
          image: { data: rgbs[i]!.data, width: rgbs[i]!.size, height: rgbs[i]!.size },
          quad: face.quad,
        })),
        { ...(this.options.pasteMaxSide !== undefined && { maxSide: this.options.pasteMaxSide }) },
      );
      p.timings.paste = performance.now() - start;
      start = performance.now();
      const image = await encodeRgbImage(whole, file);
      p.timings.output = performance.now() - start;
      return image;
    }
    const start = performance.now();
    const tiles = await Promise.all(
      rgbs.map(async (rgb) =>
        p.size === rgb.size
          ? { data: rgb.data, width: rgb.size, height: rgb.size }
          : resizeSquare(rgb.data, rgb.size, p.size),
      ),
    );
    const image =
      tiles.length === 1
        ? await encodeImage(rgbs[0]!.data, rgbs[0]!.size, { size: p.size, ...file })
        : await encodeRgbImage(composeTiles(tiles, p.req.columns ?? tiles.length), file);
    p.timings.output = performance.now() - start;
    return image;
  }

  /**
   * Every face of the photo (`faces: all`), from the cache or the encoder in one call. The
   * largest face's code is also `content`, as for one face.
   */
  private async allFaces(
    req: ParsedRequest,
    style: LoadedStyle,
    ctx: JobContext,
    time: <T>(stage: keyof Timings, step: () => Promise<T> | T) => Promise<T>,
  ): Promise<{ content: Content; codes: Float32Array[]; faces: FaceInfo[]; skipped: number }> {
    const { encoder, choice } = await this.encoderFor(req, style, time);
    const isW = encoder.space === 'w+';
    const row = style.rowLength;
    const key =
      req.face.kind === 'photo'
        ? sha256(req.face.bytes)
        : req.face.kind === 'cached-photo'
          ? req.face.key
          : '';
    const cacheKey = `faces:${encoderChecksum(encoder)}:${this.options.maxFaces ?? 'default'}:${key}`;
    const made = { encoder: choice, isW, photoKey: key };
    const cached = await this.cache.getStyleCode(cacheKey);
    let found: { codes: Float32Array[]; faces: FaceInfo[]; skipped: number };
    let cacheHit = false;
    if (
      cached &&
      typeof cached.meta.faces === 'string' &&
      typeof cached.meta.skipped === 'number'
    ) {
      const faces = JSON.parse(cached.meta.faces) as FaceInfo[];
      const codes = faces.map((_, i) => cached.code.slice(i * row, (i + 1) * row));
      found = { codes, faces, skipped: cached.meta.skipped };
      cacheHit = true;
    } else {
      if (req.face.kind !== 'photo') throw new UserError('photo-expired', key);
      found = await encodeFaces(req.face.bytes, encoder, ctx, time, {
        ...this.options,
        ...(this.options.maxFaces !== undefined && { maxFaces: this.options.maxFaces }),
      });
      const all = new Float32Array(found.codes.length * row);
      found.codes.forEach((c, i) => all.set(c, i * row));
      await this.cache.setStyleCode(
        cacheKey,
        all,
        { faces: JSON.stringify(found.faces), skipped: found.skipped },
        req.userId,
      );
    }
    const [code, face] = [found.codes[0], found.faces[0]];
    if (!code || !face) throw new NoFaceError('no face of the photo could be aligned');
    const content: Content = { ...made, code, face, cacheHit };
    return { content, ...found };
  }

  /** The encoder a request asked for (or the engine's default). */
  private async encoderFor(
    req: ParsedRequest,
    style: LoadedStyle,
    time: <T>(stage: keyof Timings, step: () => Promise<T> | T) => Promise<T>,
  ): Promise<{ encoder: LoadedEncoder; choice: EncoderChoice }> {
    const choice = req.encoder ?? this.options.encoder ?? 'style';
    const encoder =
      choice === 'identity'
        ? await time('load', () => this.pool.identityEncoder(style))
        : style.encoder;
    return { encoder, choice };
  }

  /** The content code: from the cache, the chosen encoder, or a random face. */
  private async content(
    req: ParsedRequest,
    style: LoadedStyle,
    ctx: JobContext,
    time: <T>(stage: keyof Timings, step: () => Promise<T> | T) => Promise<T>,
  ): Promise<Content> {
    const { nLatent: n, styleDim: d } = style.manifest;
    if (req.face.kind === 'random') {
      // The reference's random portrait: one z, repeated over every slot (mapping is row-wise).
      const z = createRng(`face:${req.face.seed}`).fillNormal(new Float32Array(d));
      const code = new Float32Array(n * d);
      for (let k = 0; k < n; k++) code.set(z, k * d);
      return { code, isW: false, cacheHit: false };
    }
    const { encoder, choice } = await this.encoderFor(req, style, time);
    const isW = encoder.space === 'w+';
    // The checksum names the encoder's weights, so z+ and W+ codes of one photo never mix.
    const checksum = encoderChecksum(encoder);
    const key = req.face.kind === 'photo' ? sha256(req.face.bytes) : req.face.key;
    const made = { encoder: choice, isW, photoKey: key };
    const cached = await this.cache.getContent(key, checksum);
    if (cached) {
      // Store it again under this user too, so their forget() removes it even if another user
      // sent the same bytes first (it also restarts the TTL of a photo in use).
      await this.cache.setContent(key, checksum, cached, req.userId);
      return { ...made, code: cached.code, face: cached.alignment, cacheHit: true };
    }
    if (req.face.kind === 'cached-photo') throw new UserError('photo-expired', key);
    const encoded = await encodeFace(req.face.bytes, encoder, ctx, time, this.options);
    await this.cache.setContent(
      key,
      checksum,
      { code: encoded.code, nLatent: n, styleDim: d, alignment: encoded.face },
      req.userId,
    );
    return { ...made, code: encoded.code, face: encoded.face, cacheHit: false };
  }

  /** A style's z+ code and how to describe it; a copy the caller may modify. */
  private async exstyle(
    req: ParsedRequest,
    choice: StyleChoice,
    style: LoadedStyle,
    ctx: JobContext,
    time: <T>(stage: keyof Timings, step: () => Promise<T> | T) => Promise<T>,
  ): Promise<{ code: Float32Array; used: StyleUsed }> {
    const m = style.manifest;
    if (choice.pack !== m.name) {
      throw new UserError('bad-option', `every style of one image comes from one pack (${m.name})`);
    }
    switch (choice.kind) {
      case 'image': {
        const key = sha256(choice.image);
        // Exemplar codes are z+ (the style's mapping maps them), so the style's own encoder.
        const checksum = encoderChecksum(style.encoder);
        let code = (await this.cache.getStyleCode(`${checksum}:${key}`))?.code;
        if (!code) {
          code = (await encodeFace(choice.image, style.encoder, ctx, time, this.options)).code;
          await this.cache.setStyleCode(`${checksum}:${key}`, code, { kind: 'image' }, req.userId);
        }
        return { code: code.slice(), used: described(m, { kind: 'cached-image', key }) };
      }
      case 'blend': {
        const [a, b] = [
          await this.part(choice.a, style, time),
          await this.part(choice.b, style, time),
        ];
        const ref: ReferableStyle = { ...choice, a: a.part, b: b.part };
        return {
          code: blendCodes(a.code, b.code, choice.ratio),
          used: {
            pack: m.name,
            kind: 'blend',
            blend: { a: described(m, a.part), b: described(m, b.part), ratio: choice.ratio },
            reference: formatStyleRef(ref),
          },
        };
      }
      default: {
        const { code, part } = await this.part(choice, style, time);
        return { code, used: described(m, part) };
      }
    }
  }

  /**
   * A style the pack (or the cache) holds: its z+ code, and the part with exemplar names
   * resolved to ids, so the reference printed is stable.
   */
  private async part(
    part: StylePart,
    style: LoadedStyle,
    time: <T>(stage: keyof Timings, step: () => Promise<T> | T) => Promise<T>,
  ): Promise<{ code: Float32Array; part: StylePart }> {
    const m = style.manifest;
    switch (part.kind) {
      case 'exemplar': {
        const id = resolveExemplar(m, part.exemplar);
        return { code: style.exemplar(id), part: { kind: 'exemplar', exemplar: id } };
      }
      case 'sampled': {
        const code = await time('sample', () => style.sample(part.structureSeed, part.colorSeed));
        return { code, part };
      }
      case 'cached-image': {
        const checksum = encoderChecksum(style.encoder);
        const code = (await this.cache.getStyleCode(`${checksum}:${part.key}`))?.code;
        if (!code) throw new UserError('photo-expired', part.key);
        return { code: code.slice(), part };
      }
    }
  }
}

/** How a result describes a style of `pack`, with its reference. */
function described(m: StyleManifest, part: StylePart): StyleUsed {
  const pack = m.name;
  const reference = formatStyleRef({ ...part, pack });
  switch (part.kind) {
    case 'exemplar': {
      const id = part.exemplar as number;
      return { pack, kind: 'exemplar', exemplar: { id, name: m.exemplars[id]! }, reference };
    }
    case 'sampled': {
      const { structureSeed, colorSeed } = part;
      return { pack, kind: 'sampled', structureSeed, colorSeed, reference };
    }
    case 'cached-image':
      return { pack, kind: 'image', imageKey: part.key, reference };
  }
}

async function resizeSquare(data: Uint8Array, from: number, to: number): Promise<RgbImage> {
  const out = await sharp(data, { raw: { width: from, height: from, channels: 3 } })
    .resize(to, to, { kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return { data: new Uint8Array(out.buffer, out.byteOffset, out.length), width: to, height: to };
}

/** Identifies the encoder weights, so cached codes never outlive the encoder that made them. */
function encoderChecksum(encoder: LoadedEncoder): string {
  const files = encoder.manifest.files;
  return (
    files.find((f) => f.name === 'encoder.onnx.data')?.sha256 ?? files.map((f) => f.sha256).join('')
  );
}

/** An exemplar by id, or by file name with or without its extension (case-insensitive). */
export function resolveExemplar(m: StyleManifest, exemplar: number | string | undefined): number {
  if (exemplar === undefined) return 0;
  if (typeof exemplar === 'number') return exemplar;
  if (/^\d+$/.test(exemplar)) return Number(exemplar);
  const wanted = exemplar.toLowerCase();
  const id = m.exemplars.findIndex((name) => {
    const lower = name.toLowerCase();
    return lower === wanted || lower.replace(/\.[a-z]+$/, '') === wanted;
  });
  if (id < 0) throw new UserError('unknown-exemplar', `${m.name} has no exemplar ${exemplar}`);
  return id;
}
