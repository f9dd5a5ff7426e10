/**
 * The engine: photo in, stylized portrait out. The one object every adapter (CLI, playground,
 * Discord, Slack) talks to; it knows nothing about chat platforms.
 */
import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import { UserError } from './errors.ts';
import { encodeImage, toRgb, type EncodedImage } from './image/encode.ts';
import type { StyleManifest } from './pack/manifest.ts';
import { createRng } from './random.ts';
import {
  allowedSizes,
  parseRequest,
  type EncoderChoice,
  type ParsedRequest,
  type StylizeRequest,
} from './request.ts';
import { ModelPool } from './runtime/pool.ts';
import type { GenerateInput, LoadedEncoder, LoadedStyle } from './runtime/loaded.ts';
import type { TensorData } from './runtime/session.ts';
import { warmUpFaces } from './face/index.ts';
import { encodeFace, type FaceInfo, type FaceOptions, type PhotoLimits } from './photo.ts';
import { createLatentCache, type LatentCache } from './cache/latents.ts';
import { Scheduler } from './scheduler.ts';
import type { BatchItem, JobContext, JobHandle } from './scheduler/types.ts';

/** Per-stage wall time in milliseconds. */
export type Timings = Partial<
  Record<
    'load' | 'decode' | 'detect' | 'align' | 'encode' | 'sample' | 'map' | 'generate' | 'output',
    number
  >
>;

export interface StyleUsed {
  pack: string;
  kind: 'exemplar' | 'sampled' | 'image';
  exemplar?: { id: number; name: string };
  structureSeed?: string;
  colorSeed?: string;
  /** Cache key of a user-supplied exemplar image's code. */
  imageKey?: string;
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
  /** Images generated in the same generator call as this one. */
  batchSize: number;
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
  input: GenerateInput;
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
    try {
      raw = await style.generate(
        ready.map((r) => r.prepared.input),
        items[ready[0]!.index]!.input.noiseSeed,
      );
    } catch (error) {
      for (const { index } of ready) results[index] = error as Error;
      return results;
    }
    const generateMs = performance.now() - start;
    for (const [b, { index, prepared }] of ready.entries()) {
      try {
        prepared.timings.generate = generateMs;
        results[index] = await this.finish(prepared, raw, b, ready.length);
      } catch (error) {
        results[index] = error as Error;
      }
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
    const content = await this.content(req, style, ctx, time);
    const exstyle = await this.exstyle(req, style, ctx, time);
    const input = await time('map', () => style.input(content, exstyle.code, req));
    ctx.signal.throwIfAborted();
    return { req, style, size, content, used: exstyle.used, input, timings };
  }

  private async finish(
    p: Prepared,
    raw: TensorData,
    index: number,
    batchSize: number,
  ): Promise<StylizeResult> {
    const start = performance.now();
    const rgb = toRgb(raw, index);
    const image = await encodeImage(rgb.data, rgb.size, {
      size: p.size,
      format: p.req.format,
      quality: p.req.quality,
    });
    p.timings.output = performance.now() - start;
    return {
      image,
      ...(p.content.photoKey !== undefined && { photoKey: p.content.photoKey }),
      ...(p.content.face && { face: p.content.face }),
      style: p.used,
      weights: [...p.input.weights],
      truncation: p.input.truncation,
      preserveColor: p.req.preserveColor,
      ...(p.content.encoder && { encoder: p.content.encoder }),
      ...(p.req.noiseSeed !== undefined && { noiseSeed: p.req.noiseSeed }),
      cacheHit: p.content.cacheHit,
      batchSize,
      timings: p.timings,
    };
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
    const choice = req.encoder ?? this.options.encoder ?? 'style';
    const encoder =
      choice === 'identity'
        ? await time('load', () => this.pool.identityEncoder(style))
        : style.encoder;
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

  /** The exemplar's z+ code and how to describe it; a copy the caller may modify. */
  private async exstyle(
    req: ParsedRequest,
    style: LoadedStyle,
    ctx: JobContext,
    time: <T>(stage: keyof Timings, step: () => Promise<T> | T) => Promise<T>,
  ): Promise<{ code: Float32Array; used: StyleUsed }> {
    const m = style.manifest;
    const choice = req.style;
    switch (choice.kind) {
      case 'exemplar': {
        const id = resolveExemplar(m, choice.exemplar);
        return {
          code: style.exemplar(id),
          used: { pack: m.name, kind: 'exemplar', exemplar: { id, name: m.exemplars[id]! } },
        };
      }
      case 'sampled': {
        const code = await time('sample', () =>
          style.sample(choice.structureSeed, choice.colorSeed),
        );
        return {
          code,
          used: {
            pack: m.name,
            kind: 'sampled',
            structureSeed: choice.structureSeed,
            colorSeed: choice.colorSeed,
          },
        };
      }
      case 'image':
      case 'cached-image': {
        const key = choice.kind === 'image' ? sha256(choice.image) : choice.key;
        // Exemplar codes are z+ (the style's mapping maps them), so the style's own encoder.
        const checksum = encoderChecksum(style.encoder);
        let code = (await this.cache.getStyleCode(`${checksum}:${key}`))?.code;
        if (!code) {
          if (choice.kind === 'cached-image') throw new UserError('photo-expired', key);
          code = (await encodeFace(choice.image, style.encoder, ctx, time, this.options)).code;
          await this.cache.setStyleCode(`${checksum}:${key}`, code, { kind: 'image' }, req.userId);
        }
        return { code: code.slice(), used: { pack: m.name, kind: 'image', imageKey: key } };
      }
    }
  }
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
