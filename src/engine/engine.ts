/**
 * The engine: photo in, stylized portrait out. The one object every adapter (CLI, playground,
 * Discord, Slack) talks to; it knows nothing about chat platforms.
 */
import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import { NoFaceError, UserError } from './errors.ts';
import type { EncodedImage } from './image/encode.ts';
import type { JobOutput } from './image/render.ts';
import { wPlusEncoderName, type EncoderManifest, type StyleManifest } from './pack/manifest.ts';
import { familyFor, familyModules } from './families/index.ts';
import { listPacks } from './pack/store.ts';
import { sha256 } from './hash.ts';
import { createRng } from './random.ts';
import {
  allowedSizes,
  parseRequest,
  type EncoderChoice,
  type ParsedRequest,
  type StylizeRequest,
} from './request.ts';
import type { GenerateInput } from './runtime/loaded.ts';
import type { Device } from './runtime/devices.ts';
import type { FaceInfo, FaceOptions, PhotoLimits } from './photo.ts';
import { createLatentCache, type LatentCache } from './cache/latents.ts';
import { InferenceClient } from './inference/client.ts';
import { fromWire } from './inference/protocol.ts';
import { Scheduler } from './scheduler/index.ts';
import type { BatchItem, JobContext, JobHandle } from './scheduler/index.ts';
import type { EngineHealth, StyleInfo, StyleUsed, StylizeResult } from './results.ts';
import { timed, type Timings } from './timings.ts';

export type { EngineHealth, StyleInfo, StyleUsed, StylizeResult } from './results.ts';
export type { Timings } from './timings.ts';

interface Content {
  code: Float32Array;
  /** The encoder that made `code`; none for a random face (a z code). */
  encoder?: EncoderChoice;
  isW: boolean;
  photoKey?: string;
  face?: FaceInfo;
  cacheHit: boolean;
}

/** A style pack as the main process knows it: manifests only (the models are in the host). */
interface PackInfo {
  manifest: StyleManifest;
  encoder: EncoderManifest;
}

interface Prepared {
  req: ParsedRequest;
  manifest: StyleManifest;
  size: number;
  content: Content;
  used: StyleUsed;
  /** One per image to generate: a face of the photo, or a tile. */
  inputs: GenerateInput[];
  tiles?: StyleUsed[];
  /** For `output: photo`: the photo and the faces to paste, one per input. */
  paste?: { photo: Uint8Array; faces: FaceInfo[]; skipped: number };
  timings: Timings;
}

export interface EngineOptions {
  modelsDir: string;
  /** keyv store URL: 'memory', 'sqlite://path' or 'redis://…' (default memory). */
  cacheUrl?: string;
  cacheTtlMs?: number;
  /** Key namespace of the cache, so deployments sharing a store stay apart; default `latents`. */
  cacheNamespace?: string;
  /** ONNX Runtime threads per operator (default: all cores). */
  threads?: number;
  /** Execution provider (default `cpu`); `auto` takes a GPU where one works. */
  device?: Device;
  /** Weight bytes of style packs and W+ encoders kept loaded (default 2 GB). */
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
  /**
   * How long a photo's bytes are kept after it is sent, for pasting a later result back into it
   * (`privacy.keepPhotosMinutes`); in the latent cache, per user, removed by `forget`. Default 0:
   * never kept, and a whole photo from an earlier photo needs it attached again.
   */
  keepPhotosMs?: number;
  /** Inference host crashes and restarts; default `console.error`. */
  log?: (line: string) => void;
}

/**
 * What callers use of an engine: the in-process {@link Engine}, or the queue-mode facade that
 * sends jobs to `pastiche worker`s (src/queue/remote-engine.ts).
 */
export type EngineApi = Pick<
  Engine,
  'submit' | 'stylize' | 'styles' | 'forget' | 'preload' | 'close'
> &
  // Optional, so existing implementations (wrappers in tests) stay valid.
  Partial<Pick<Engine, 'health' | 'forgetPhoto'>>;

/**
 * The engine runs in two processes: this one keeps the scheduler (fairness, positions, cancel,
 * timeouts), the latent cache and each job's bookkeeping; the inference host (a child process,
 * see inference/client.ts) holds the models and does every heavy step. So the event loop that
 * answers Discord and Slack never waits on a model, and a crash of the host ends only the job
 * that was running.
 */
export class Engine {
  /** Packs the host has loaded or is loading (resolves when ready). */
  readonly #loading = new Map<string, Promise<void>>();
  /** Packs the host has loaded: a job on any other says it is warming up. */
  readonly #loaded = new Set<string>();
  readonly #preloaded = new Set<string>();
  #facesWarm = false;
  private readonly host: InferenceClient;

  private constructor(
    private readonly options: EngineOptions,
    private readonly cache: LatentCache,
    private readonly scheduler: Scheduler<StylizeResult>,
  ) {
    this.host = new InferenceClient({
      config: {
        modelsDir: options.modelsDir,
        budgetBytes: options.memoryBudgetBytes ?? 2 * 1024 ** 3,
        threads: options.threads ?? cpus().length,
        ...(options.device && { device: options.device }),
        warmup: options.warmup ?? true,
        ...(options.photo && { photo: options.photo }),
        ...(options.face && { face: options.face }),
        families: familyModules(),
      },
      ...(options.log && { log: options.log }),
      onRestart: () => this.reloaded(),
    });
  }

  /** Starts the inference host without waiting for it: jobs wait for it, commands do not. */
  static async create(options: EngineOptions): Promise<Engine> {
    const cache = await createLatentCache({
      url: options.cacheUrl ?? 'memory',
      ...(options.cacheTtlMs !== undefined && { ttlMs: options.cacheTtlMs }),
      ...(options.cacheNamespace !== undefined && { namespace: options.cacheNamespace }),
    });
    const scheduler = new Scheduler<StylizeResult>({
      maxQueue: options.maxQueue ?? 100,
      maxBatch: options.maxBatch ?? 1,
      defaultTimeoutMs: options.jobTimeoutMs ?? 120_000,
    });
    return new Engine(options, cache, scheduler);
  }

  /** Cache entries dropped as unusable (damaged, or not of their pack's shape) since start. */
  get cacheRejected(): number {
    return this.cache.rejected;
  }

  /** Installed style packs. */
  styles(): StyleInfo[] {
    return this.stylePacks().map((m) => ({
      name: m.name,
      size: m.size,
      exemplars: m.exemplars,
      defaults: m.defaults,
      hasSampler: m.hasSampler,
      demo: m.demo,
      licence: m.licence,
      version: packVersion(m),
    }));
  }

  /** Loads a style (and its encoder) and the face models ahead of the first request. */
  async preload(pack: string): Promise<void> {
    this.#preloaded.add(pack);
    await this.load(pack);
    // The default encoder too, so the first photo does not wait for its gigabyte of weights.
    if (this.options.encoder === 'identity') {
      await this.host.call('load', { pack, identity: true });
    }
    if (!this.#facesWarm) {
      await this.host.call('warm-faces', {});
      this.#facesWarm = true;
    }
  }

  /** The inference host's state, restarts and last crash, and the queue. */
  health(): EngineHealth {
    const host = this.host.health();
    return {
      state: host.state,
      ...(host.pid !== undefined && { pid: host.pid }),
      restarts: host.restarts,
      ...(host.lastCrash && { lastCrash: host.lastCrash }),
      ...(host.peakRssBytes !== undefined && { peakRssBytes: host.peakRssBytes }),
      packs: [...this.#loaded.keys()],
      jobs: this.scheduler.stats(),
    };
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

  /** Deletes the photo kept for `userId` under `photoKey` (its sha256), if any. */
  async forgetPhoto(userId: string, photoKey: string): Promise<boolean> {
    return this.cache.deletePhoto(photoKey, userId);
  }

  /** Cancels the jobs, stops the inference host (so the process can exit) and closes the cache. */
  async close(): Promise<void> {
    this.scheduler.close();
    await this.host.close();
    await this.cache.close();
  }

  private stylePacks(): StyleManifest[] {
    return listPacks(this.options.modelsDir).flatMap(({ manifest: m }) =>
      m.kind === 'style' ? [m] : [],
    );
  }

  private packInfo(name: string): PackInfo {
    const style = this.manifest(name);
    if (!style || style.kind !== 'style') throw new UserError('unknown-style', name);
    const encoder = this.manifest(style.encoder);
    if (!encoder || encoder.kind !== 'encoder') {
      throw new Error(`${name} needs encoder pack ${style.encoder}, which is not installed`);
    }
    return { manifest: style, encoder };
  }

  private manifest(name: string) {
    return listPacks(this.options.modelsDir).find((p) => p.manifest.name === name)?.manifest;
  }

  /**
   * The manifest of the encoder `choice` names for `pack`: its own, or the W+ ("identity")
   * encoder paired with it (`no-identity-encoder` when it is not installed or does not fit; the
   * host also refuses a generator built before W+ content codes).
   */
  private encoderFor(pack: PackInfo, choice: EncoderChoice): EncoderManifest {
    if (choice === 'style') return pack.encoder;
    const m = pack.manifest;
    const name = wPlusEncoderName(m.encoder);
    const found = this.manifest(name);
    if (!found) throw new UserError('no-identity-encoder', `${name} is not installed`);
    const fits =
      found.kind === 'encoder' &&
      found.space === 'w+' &&
      found.nLatent === m.nLatent &&
      found.styleDim === m.styleDim;
    if (!fits || found.kind !== 'encoder') {
      throw new UserError('no-identity-encoder', `${name} is not a W+ encoder that fits ${m.name}`);
    }
    return found;
  }

  /** Has the host load a pack once; a failed load is tried again by the next job. */
  private load(pack: string): Promise<void> {
    let loading = this.#loading.get(pack);
    if (!loading) {
      loading = this.host.call('load', { pack }).then(() => void this.#loaded.add(pack));
      loading.catch(() => this.#loading.delete(pack));
      this.#loading.set(pack, loading);
    }
    return loading;
  }

  /** A restarted host has no models: load the preloaded ones again, before the next job asks. */
  private reloaded(): void {
    this.#loading.clear();
    this.#loaded.clear();
    this.#facesWarm = false;
    for (const pack of this.#preloaded) {
      this.preload(pack).catch((error: unknown) =>
        (this.options.log ?? console.error)(`could not reload ${pack}: ${String(error)}`),
      );
    }
  }

  /**
   * Runs compatible jobs (same pack, same noise) as one generator batch; each job's own steps
   * (decode, align, encode, sample, image encoding) run per job, and a failure stays its own.
   */
  private readonly runBatch = async (
    items: readonly BatchItem<ParsedRequest>[],
    signal: AbortSignal,
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
    for (const { index } of ready) items[index]!.stage('generating');
    let generated: Awaited<ReturnType<typeof this.generate>>;
    try {
      generated = await this.generate(
        ready.map((r) => r.prepared),
        items[ready[0]!.index]!.input.noiseSeed,
        signal,
        (job, image) => items[ready[job]!.index]!.preview(image),
      );
    } catch (error) {
      for (const { index } of ready) results[index] = error as Error;
      return results;
    }
    const images = ready.reduce((n, r) => n + r.prepared.inputs.length, 0);
    for (const [b, { index, prepared }] of ready.entries()) {
      const output = generated.outputs[b]!;
      if (!output.ok) {
        results[index] = fromWire(output.error);
        continue;
      }
      prepared.timings.generate = generated.generateMs;
      prepared.timings.output = output.outputMs;
      if (output.pasteMs !== undefined) prepared.timings.paste = output.pasteMs;
      results[index] = this.finish(prepared, output.image, images);
    }
    return results;
  };

  private generate(
    batch: readonly Prepared[],
    noiseSeed: string | undefined,
    signal: AbortSignal,
    onPreview: (job: number, image: EncodedImage) => void,
  ) {
    return this.host.call(
      'generate',
      {
        pack: batch[0]!.manifest.name,
        // Every job's faces and tiles in the one generator call.
        inputs: batch.flatMap((p) => p.inputs),
        ...(noiseSeed !== undefined && { noiseSeed }),
        outputs: batch.map((p) => this.jobOutput(p)),
      },
      signal,
      (progress) => onPreview(progress.job, progress.image),
    );
  }

  /** Everything up to the generator: model, content code, exemplar code (mapped), weights. */
  private async prepare(asked: ParsedRequest, ctx: JobContext): Promise<Prepared> {
    const req = await this.withKeptPhoto(asked);
    const timings: Timings = {};
    const time = <T>(stage: keyof Timings, step: () => Promise<T>) => timed(timings, stage, step);
    const pack = this.packInfo(req.style.pack);
    const m = pack.manifest;
    const size = req.size ?? m.size;
    if (!allowedSizes(m.size).includes(size)) {
      throw new UserError('bad-option', `size must be one of ${allowedSizes(m.size).join(', ')}`);
    }
    const family = await familyFor(m.architecture);
    if (!this.#loaded.has(m.name)) ctx.stage('warming-up');
    await time('load', () => this.load(m.name));
    ctx.signal.throwIfAborted();
    const group = req.faces === 'all' ? await this.allFaces(req, pack, ctx, timings) : undefined;
    const content = group?.content ?? (await this.content(req, pack, ctx, timings));
    await this.keepPhoto(asked, content);
    const codes = group?.codes ?? [content.code];
    const styled = await family.styleInputs({
      req,
      manifest: m,
      codes,
      contentIsW: content.isW,
      ctx,
      timings,
      host: this.host,
      cache: this.cache,
      styleEncoderChecksum: encoderChecksum(pack.encoder),
      encodeStyleImage: async (bytes) =>
        (await this.encodeFace(bytes, m.name, 'style', ctx, timings)).code,
    });
    ctx.signal.throwIfAborted();
    let paste: Prepared['paste'];
    if (req.output === 'photo' || req.faces === 'all') {
      // Codes last days, photos minutes at most (keepPhotosMs): past that, the photo again.
      if (req.face.kind !== 'photo') throw new UserError('photo-needed', 'paste-back');
      const faces = group?.faces ?? (content.face ? [content.face] : []);
      paste = { photo: req.face.bytes, faces, skipped: group?.skipped ?? 0 };
    }
    return {
      req,
      manifest: m,
      size,
      content,
      used: styled.used,
      inputs: styled.inputs,
      ...(styled.tiles && { tiles: styled.tiles }),
      ...(paste && { paste }),
      timings,
    };
  }

  /**
   * A whole photo from an earlier photo (by its key) gets that photo's kept bytes, if they are
   * still kept for this user; otherwise the request stays as it is (and asks for the photo).
   */
  private async withKeptPhoto(req: ParsedRequest): Promise<ParsedRequest> {
    const whole = req.output === 'photo' || req.faces === 'all';
    if (!whole || req.face.kind !== 'cached-photo') return req;
    const bytes = await this.cache.getPhoto(req.face.key, req.userId);
    return bytes ? { ...req, face: { kind: 'photo', bytes } } : req;
  }

  /**
   * Keeps a photo the user sent (one with a face) for `keepPhotosMs`. Bytes taken from the kept
   * store arrive as a cached photo and are not kept again: using a photo never extends its time.
   */
  private async keepPhoto(req: ParsedRequest, content: Content): Promise<void> {
    const ms = this.options.keepPhotosMs ?? 0;
    if (ms <= 0 || req.face.kind !== 'photo' || !content.photoKey) return;
    await this.cache.setPhoto(content.photoKey, req.face.bytes, req.userId, ms);
  }

  /** What the host makes of a job's images: the crop, tiles, or the whole photo. */
  private jobOutput(p: Prepared): JobOutput {
    const { pasteMaxSide } = this.options;
    return {
      images: p.inputs.length,
      size: p.size,
      format: p.req.format,
      quality: p.req.quality,
      ...(p.req.columns !== undefined && { columns: p.req.columns }),
      ...(p.paste && {
        paste: {
          photo: p.paste.photo,
          quads: p.paste.faces.map((f) => f.quad),
          ...(pasteMaxSide !== undefined && { maxSide: pasteMaxSide }),
        },
      }),
    };
  }

  /**
   * Every face of the photo (`faces: all`), from the cache or aligned and encoded in one call
   * each. The largest face's code is also `content`, as for one face.
   */
  private async allFaces(
    req: ParsedRequest,
    pack: PackInfo,
    ctx: JobContext,
    timings: Timings,
  ): Promise<{ content: Content; codes: Float32Array[]; faces: FaceInfo[]; skipped: number }> {
    const choice = req.encoder ?? this.options.encoder ?? 'style';
    const encoder = this.encoderFor(pack, choice);
    const isW = encoder.space === 'w+';
    const row = pack.manifest.nLatent * pack.manifest.styleDim;
    if (req.face.kind === 'random') throw new UserError('bad-option', 'a random face has no photo');
    const key = req.face.kind === 'photo' ? sha256(req.face.bytes) : req.face.key;
    const { maxFaces } = this.options;
    // One entry for the whole photo: every face's code, and where each is (its FaceInfo).
    const cacheKey = `faces:${encoderChecksum(encoder)}:${maxFaces ?? 'default'}:${key}`;
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
      ctx.stage('aligning');
      const bytes = req.face.bytes;
      const aligned = await this.host.call(
        'align-all',
        { bytes, ...(maxFaces !== undefined && { maxFaces }) },
        ctx.signal,
      );
      timings.decode = (timings.decode ?? 0) + aligned.decodeMs;
      timings.detect = (timings.detect ?? 0) + aligned.detectMs;
      ctx.signal.throwIfAborted();
      ctx.stage('encoding');
      const name = pack.manifest.name;
      const codes = aligned.crops.length
        ? await timed(timings, 'encode', () =>
            this.host.call(
              'encode-all',
              { pack: name, crops: aligned.crops, encoder: choice },
              ctx.signal,
            ),
          )
        : [];
      found = { codes, faces: aligned.faces, skipped: aligned.skipped };
      const all = new Float32Array(codes.length * row);
      codes.forEach((c, i) => all.set(c, i * row));
      const meta = { faces: JSON.stringify(found.faces), skipped: found.skipped };
      await this.cache.setStyleCode(cacheKey, all, meta, req.userId);
    }
    const [code, face] = [found.codes[0], found.faces[0]];
    if (!code || !face) throw new NoFaceError('no face of the photo could be aligned');
    const content: Content = { encoder: choice, isW, photoKey: key, code, face, cacheHit };
    return { content, ...found };
  }

  private finish(p: Prepared, image: EncodedImage, batchSize: number): StylizeResult {
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

  /** Photo bytes → z+ code in the host: find and align the face, then encode it. */
  private async encodeFace(
    bytes: Uint8Array,
    pack: string,
    encoder: EncoderChoice,
    ctx: JobContext,
    timings: Timings,
  ): Promise<{ code: Float32Array; face: FaceInfo }> {
    ctx.stage('aligning');
    const aligned = await this.host.call('align', { bytes }, ctx.signal);
    timings.decode = (timings.decode ?? 0) + aligned.decodeMs;
    timings.detect = (timings.detect ?? 0) + aligned.detectMs;
    ctx.signal.throwIfAborted();
    ctx.stage('encoding');
    const code = await timed(timings, 'encode', () =>
      this.host.call('encode', { pack, crop: aligned.crop, encoder }, ctx.signal),
    );
    return { code, face: aligned.face };
  }

  /** The content code: from the cache, the chosen encoder, or a random face. */
  private async content(
    req: ParsedRequest,
    pack: PackInfo,
    ctx: JobContext,
    timings: Timings,
  ): Promise<Content> {
    const { nLatent: n, styleDim: d } = pack.manifest;
    if (req.face.kind === 'random') {
      // The reference's random portrait: one z, repeated over every slot (mapping is row-wise).
      const z = createRng(`face:${req.face.seed}`).fillNormal(new Float32Array(d));
      const code = new Float32Array(n * d);
      for (let k = 0; k < n; k++) code.set(z, k * d);
      return { code, isW: false, cacheHit: false };
    }
    const choice = req.encoder ?? this.options.encoder ?? 'style';
    const encoder = this.encoderFor(pack, choice);
    const isW = encoder.space === 'w+';
    // The checksum names the encoder's weights, so z+ and W+ codes of one photo never mix.
    const checksum = encoderChecksum(encoder);
    const key = req.face.kind === 'photo' ? sha256(req.face.bytes) : req.face.key;
    const made = { encoder: choice, isW, photoKey: key };
    // Checked against this pack: an entry of another shape (or damaged) is dropped, a miss.
    const cached = await this.cache.getContent(key, checksum, { nLatent: n, styleDim: d });
    if (cached) {
      // Store it again under this user too, so their forget() removes it even if another user
      // sent the same bytes first (it also restarts the TTL of a photo in use).
      await this.cache.setContent(key, checksum, cached, req.userId);
      return { ...made, code: cached.code, face: cached.alignment, cacheHit: true };
    }
    if (req.face.kind === 'cached-photo') throw new UserError('photo-expired', key);
    const name = pack.manifest.name;
    const encoded = await this.encodeFace(req.face.bytes, name, choice, ctx, timings);
    await this.cache.setContent(
      key,
      checksum,
      { code: encoded.code, nLatent: n, styleDim: d, alignment: encoded.face },
      req.userId,
    );
    return { ...made, code: encoded.code, face: encoded.face, cacheHit: false };
  }
}

/** A digest of what the pack's images depend on: its files, its encoder pack and its making. */
function packVersion(m: StyleManifest): string {
  const what = JSON.stringify({ files: m.files, encoder: m.encoder, createdAt: m.createdAt });
  return createHash('sha256').update(what).digest('hex').slice(0, 16);
}

/** Identifies the encoder weights, so cached codes never outlive the encoder that made them. */
function encoderChecksum(encoder: EncoderManifest): string {
  const files = encoder.files;
  return (
    files.find((f) => f.name === 'encoder.onnx.data')?.sha256 ?? files.map((f) => f.sha256).join('')
  );
}
