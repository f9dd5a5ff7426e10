/**
 * The one module that imports onnxruntime-node. Everything else passes {@link TensorData}.
 */
import { cpus } from 'node:os';
import * as ort from 'onnxruntime-node';

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
  optimization?: 'all' | 'extended';
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
  ) {}

  static async load(path: string, options: SessionOptions = {}): Promise<Model> {
    const session = await ort.InferenceSession.create(path, {
      intraOpNumThreads: options.threads ?? cpus().length,
      interOpNumThreads: 1,
      graphOptimizationLevel: options.optimization ?? 'all',
      executionMode: 'sequential',
      // Memory-pattern planning doubles the arena at 1024² (2.2 → 1.4 GB for the generator) and
      // needs a second warm-up run; measured in `npm run bench`.
      enableMemPattern: false,
      // Overridable noise inputs make ORT warn once per input; real problems are errors.
      logSeverityLevel: 3,
    });
    const ports = (meta: readonly ort.InferenceSession.ValueMetadata[]): Port[] =>
      meta.map((m) => ({ name: m.name, dims: m.isTensor ? m.shape : [] }));
    return new Model(session, path, ports(session.inputMetadata), ports(session.outputMetadata));
  }

  /** Runs the model; inputs the model declares with a default (initializer) may be omitted. */
  async run(feeds: Record<string, TensorData>): Promise<Record<string, TensorData>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      const port = this.inputs.find((p) => p.name === name);
      if (!port) throw new Error(`${this.path}: no input named ${name}`);
      if (port.dims.length !== t.dims.length) {
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

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
