/**
 * The one module that imports onnxruntime-node. Everything else passes {@link TensorData}.
 */
import { PasticheError } from '../errors.ts';
import { cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import { missingProviderHint, providerChain, type Device, type Provider } from './devices.ts';

export {
  DEVICES,
  providerChain,
  missingProviderHint,
  type Device,
  type Provider,
} from './devices.ts';

/** onnxruntime-node's version: an optimized graph saved by one version is for that version. */
export const RUNTIME_VERSION: string = ort.env.versions.common;

/** A float32 tensor in row-major order. */
export interface TensorData {
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

export interface SessionOptions {
  /** Threads for one operator; defaults to the number of cores (inference is CPU-bound). */
  threads?: number;
  /**
   * ONNX Runtime's graph optimization level. 'all' adds the NCHWc layout transform, which keeps
   * a second, re-laid-out copy of every conv weight: fastest, but it costs memory and load time.
   */
  optimization?: 'all' | 'extended' | 'none';
  /** Where graphs run (default `cpu`); see {@link providerChain}. */
  device?: Device;
  /** Told once per process when `auto` settles on a provider after others failed. */
  onFallback?: (message: string) => void;
  /**
   * ONNX Runtime's CPU arena (default on): it keeps the largest working set a graph has needed,
   * for the life of the session. Off, tensors go back to the system after each run.
   */
  arena?: boolean;
  /**
   * Whether idle pool threads spin waiting for work (ONNX Runtime's default, on). Off frees the
   * cores between operators for whatever else the host runs.
   */
  spinning?: boolean;
  /**
   * Whether a style pack with preview halves loads them (default) or its whole generator, which
   * is a little faster but gives no first look.
   */
  preview?: boolean;
  /**
   * Writes ONNX Runtime's per-operator trace (Chrome trace JSON) to a file starting with this
   * prefix; {@link Model.endProfiling} closes it. For `npm run bench:profile`.
   */
  profile?: string;
}

/** A device that cannot run here; `message` is the one sentence a person acts on. */
export class DeviceUnavailableError extends PasticheError {
  override readonly name = 'DeviceUnavailableError';
  readonly code = 'device-unavailable';
  constructor(
    readonly provider: Provider,
    cause: unknown,
  ) {
    super(missingProviderHint(provider), { cause });
  }
}

// Which provider a device setting resolved to, so a failed GPU is probed once, not per graph.
const resolved = new Map<Device, Provider>();
const failed = new Map<Provider, unknown>();
const told = new Set<Device>();

/** Creates a session on the first provider of the chain that loads. */
async function createSession(
  path: string,
  options: SessionOptions,
  base: ort.InferenceSession.SessionOptions,
): Promise<{ session: ort.InferenceSession; provider: Provider }> {
  const device = options.device ?? 'cpu';
  const known = resolved.get(device);
  const chain = known ? [known] : providerChain(device);
  const skipped: Provider[] = [];
  for (const provider of chain) {
    if (failed.has(provider) && provider !== 'cpu') {
      skipped.push(provider);
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(path, {
        ...base,
        executionProviders: [provider],
      });
      if (!known) {
        resolved.set(device, provider);
        // Graphs load in parallel, so two may both have probed: tell once.
        if (skipped.length > 0 && !told.has(device)) {
          told.add(device);
          options.onFallback?.(
            `engine.device '${device}': using ${provider}; ${skipped
              .map((p) => missingProviderHint(p))
              .join(' ')}`,
          );
        }
      }
      return { session, provider };
    } catch (error) {
      // A model that ONNX Runtime rejects fails on the CPU too: only a provider that cannot
      // start moves the chain on.
      if (!isProviderFailure(error) || provider === 'cpu') throw error;
      failed.set(provider, error);
      skipped.push(provider);
    }
  }
  const last = skipped.at(-1) as Provider;
  throw new DeviceUnavailableError(last, failed.get(last));
}

/** ONNX Runtime's ways of saying an execution provider is absent or has no device. */
function isProviderFailure(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /backend not found|Failed to load shared library|adapter|CUDA|cuDNN|DirectML|CoreML|providers_/i.test(
    message,
  );
}

/** An input or output the model declares, with its symbolic or fixed dimensions. */
export interface Port {
  name: string;
  dims: readonly (number | string)[];
}

/**
 * An ONNX model ready to run. Reports a missing or misshapen input by name instead of
 * ONNX Runtime's generic message.
 *
 * @example
 * const mapping = await Model.load('models/encoder/mapping.onnx');
 * const { w } = await mapping.run({ z: { dims: [1, 512], data: z } });
 */
export class Model {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly path: string,
    readonly inputs: readonly Port[],
    readonly outputs: readonly Port[],
    /** The execution provider the graph runs on. */
    readonly provider: Provider,
  ) {}

  static async load(path: string, options: SessionOptions = {}): Promise<Model> {
    const { session, provider } = await createSession(path, options, {
      intraOpNumThreads: options.threads ?? cpus().length,
      interOpNumThreads: 1,
      graphOptimizationLevel:
        options.optimization === 'none' ? 'disabled' : (options.optimization ?? 'all'),
      executionMode: 'sequential',
      // Memory-pattern planning doubles the arena at 1024² (2.2 → 1.4 GB for the generator) and
      // needs a second warm-up run; measured in `npm run bench`.
      enableMemPattern: false,
      enableCpuMemArena: options.arena ?? true,
      ...(options.profile ? { enableProfiling: true, profileFilePrefix: options.profile } : {}),
      ...(options.spinning === false
        ? { extra: { session: { 'intra_op.allow_spinning': '0' } } }
        : {}),
      // Overridable noise inputs make ORT warn once per input; real problems are errors.
      logSeverityLevel: 3,
    });
    const ports = (meta: readonly ort.InferenceSession.ValueMetadata[]): Port[] =>
      meta.map((m) => ({ name: m.name, dims: m.isTensor ? m.shape : [] }));
    return new Model(
      session,
      path,
      ports(session.inputMetadata),
      ports(session.outputMetadata),
      provider,
    );
  }

  /**
   * Writes ONNX Runtime's fully optimized form of the graph at `path` to `out`, its weights to
   * `weightsFile` beside it, for {@link Model.load} with `optimization: 'none'`: the NCHWc layout's speed with
   * one copy of the weights, where a session at 'all' keeps the original and the re-laid-out
   * copy. The result suits this CPU only (the layout's block size follows its vector width).
   */
  static async saveOptimized(
    path: string,
    out: string,
    weightsFile: string,
    options: SessionOptions = {},
  ): Promise<void> {
    const session = await ort.InferenceSession.create(path, {
      intraOpNumThreads: options.threads ?? cpus().length,
      graphOptimizationLevel: 'all',
      optimizedModelFilePath: out,
      logSeverityLevel: 3,
      extra: {
        session: {
          optimized_model_external_initializers_file_name: weightsFile,
          optimized_model_external_initializers_min_size_in_bytes: '1024',
        },
      },
    });
    await session.release();
  }

  /** Runs the model; inputs the model declares with a default (initializer) may be omitted. */
  async run(feeds: Record<string, TensorData>): Promise<Record<string, TensorData>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      const port = this.inputs.find((p) => p.name === name);
      if (!port) throw new Error(`${this.path}: no input named ${name}`);
      // No dims: a tensor handed between split graphs, declared without a shape (see onnx/split.ts).
      if (port.dims.length > 0 && port.dims.length !== t.dims.length) {
        throw new Error(
          `${this.path}: input ${name} has dims [${t.dims.join(',')}], expected [${port.dims.join(',')}]`,
        );
      }
      ortFeeds[name] = new ort.Tensor('float32', t.data, t.dims);
    }
    const result = await this.session.run(ortFeeds);
    const out: Record<string, TensorData> = {};
    for (const [name, t] of Object.entries(result)) {
      out[name] = { dims: t.dims, data: t.data as Float32Array };
    }
    return out;
  }

  /** Ends the trace started by the `profile` option and writes its file. */
  endProfiling(): void {
    this.session.endProfiling();
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
