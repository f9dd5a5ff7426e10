/**
 * The engine: photo in, stylized portrait out. The one object every adapter (CLI, playground,
 * Discord, Slack) talks to; it knows nothing about chat platforms. This file is the
 * orchestration: the steps are in catalog.ts (installed packs), content.ts (content codes),
 * the pack's model family (style codes), kept-photos.ts, job-output.ts (crop, grid or whole
 * photo, and the answer) and host-models.ts (what the inference host has loaded).
 */
import { cpus } from 'node:os';
import { UserError } from './errors.ts';
import { PackCatalog } from './catalog.ts';
import { ContentCodes, encoderChecksum } from './content.ts';
import { familyFor, familyModules } from './families/index.ts';
import { HostModels } from './host-models.ts';
import { jobOutput, pasteOf, stylizeResult, type Prepared } from './job-output.ts';
import { KeptPhotos } from './kept-photos.ts';
import {
  allowedSizes,
  parseRequest,
  type EncoderChoice,
  type ParsedRequest,
  type StylizeRequest,
} from './request.ts';
import type { Device } from './runtime/devices.ts';
import type { EncodedImage } from './image/encode.ts';
import type { FaceOptions, PhotoLimits } from './photo.ts';
import { createLatentCache, type LatentCache } from './cache/latents.ts';
import { InferenceClient } from './inference/client.ts';
import { fromWire } from './inference/protocol.ts';
import { Scheduler } from './scheduler/index.ts';
import type { BatchItem, JobContext, JobHandle } from './scheduler/index.ts';
import type { EngineHealth, StyleInfo, StylizeResult } from './results.ts';
import { timed, type Timings } from './timings.ts';

export type { EngineHealth, StyleInfo, StyleUsed, StylizeResult } from './results.ts';
export type { Timings } from './timings.ts';

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
  /** Run a pack's generator as its preview halves (default) or whole: see `engine.preview`. */
  preview?: boolean;
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
  private readonly host: InferenceClient;
  private readonly models: HostModels;
  private readonly catalog: PackCatalog;
  private readonly contents: ContentCodes;
  private readonly photos: KeptPhotos;

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
        preview: options.preview ?? true,
        ...(options.photo && { photo: options.photo }),
        ...(options.face && { face: options.face }),
        families: familyModules(),
      },
      ...(options.log && { log: options.log }),
      onRestart: () => this.models.reloaded(),
    });
    this.models = new HostModels(this.host, options.encoder === 'identity', (line) =>
      (options.log ?? console.error)(line),
    );
    this.catalog = new PackCatalog(options.modelsDir);
    this.contents = new ContentCodes(this.host, cache, this.catalog, {
      ...(options.encoder && { encoder: options.encoder }),
      ...(options.maxFaces !== undefined && { maxFaces: options.maxFaces }),
    });
    this.photos = new KeptPhotos(cache, options.keepPhotosMs ?? 0);
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
    return this.catalog.styles();
  }

  /** Loads a style (and its encoder) and the face models ahead of the first request. */
  async preload(pack: string): Promise<void> {
    await this.models.preload(pack);
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
      packs: this.models.loaded,
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
      results[index] = stylizeResult(prepared, output.image, images);
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
        outputs: batch.map((p) => jobOutput(p, this.options.pasteMaxSide)),
      },
      signal,
      (progress) => onPreview(progress.job, progress.image),
    );
  }

  /** Everything up to the generator: model, content codes, the family's style step, paste. */
  private async prepare(asked: ParsedRequest, ctx: JobContext): Promise<Prepared> {
    const req = await this.photos.restore(asked);
    const timings: Timings = {};
    const pack = this.catalog.style(req.style.pack);
    const m = pack.manifest;
    const size = req.size ?? m.size;
    if (!allowedSizes(m.size).includes(size)) {
      throw new UserError('bad-option', `size must be one of ${allowedSizes(m.size).join(', ')}`);
    }
    const family = await familyFor(m.architecture);
    if (!this.models.isLoaded(m.name)) ctx.stage('warming-up');
    await timed(timings, 'load', () => this.models.load(m.name));
    ctx.signal.throwIfAborted();
    const group =
      req.faces === 'all' ? await this.contents.group(req, pack, ctx, timings) : undefined;
    const content = group?.content ?? (await this.contents.face(req, pack, ctx, timings));
    await this.photos.keep(asked, content);
    const styled = await family.styleInputs({
      req,
      manifest: m,
      codes: group?.codes ?? [content.code],
      contentIsW: content.isW,
      ctx,
      timings,
      host: this.host,
      cache: this.cache,
      styleEncoderChecksum: encoderChecksum(pack.encoder),
      encodeStyleImage: async (bytes) =>
        (await this.contents.encode(bytes, m.name, 'style', ctx, timings)).code,
    });
    ctx.signal.throwIfAborted();
    const paste = pasteOf(req, content, group);
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
}
