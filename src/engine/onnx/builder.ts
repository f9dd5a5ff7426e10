import { closeSync, openSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** The opset every graph of a pack targets. */
export const OPSET = 17;

/** A dimension: a fixed size, or a symbolic name such as `'B'` for a dynamic batch. */
export type Dim = number | string;

/** A tensor flowing through the graph under construction. */
export class Value {
  constructor(readonly name: string) {}
}

/** Marks an attribute as a float; plain numbers are integer attributes. */
export class FloatAttr {
  constructor(readonly value: number) {}
}

export const float = (value: number): FloatAttr => new FloatAttr(value);

export type Attr = number | readonly number[] | string | FloatAttr;

// Tensors at least this large go to the external data file (the onnx package's own threshold);
// smaller ones stay inline, where a page-aligned slot would waste more than it holds.
const EXTERNAL_THRESHOLD = 1024;
// Page alignment lets ONNX Runtime map the weights instead of copying them.
const EXTERNAL_ALIGN = 4096;

/** Appends tensor bytes to a weights file as they are created, so no graph holds all its weights. */
class ExternalDataWriter {
  private readonly fd: number;
  private offset = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  append(bytes: Uint8Array): { offset: number; length: number } {
    const pad = (EXTERNAL_ALIGN - (this.offset % EXTERNAL_ALIGN)) % EXTERNAL_ALIGN;
    if (pad > 0) writeSync(this.fd, new Uint8Array(pad));
    const offset = this.offset + pad;
    writeSync(this.fd, bytes);
    this.offset = offset + bytes.length;
    return { offset, length: bytes.length };
  }

  close(): void {
    closeSync(this.fd);
  }
}

function attribute(name: string, value: Attr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (value instanceof FloatAttr) return { name, type: T.FLOAT, f: value.value };
  if (typeof value === 'string') {
    return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  }
  const ints = typeof value === 'number' ? [value] : value;
  for (const v of ints) {
    if (!Number.isInteger(v)) throw new TypeError(`attribute ${name}: ${v} is not an integer`);
  }
  return typeof value === 'number'
    ? { name, type: T.INT, i: value }
    : { name, type: T.INTS, ints: [...value] };
}

function valueInfo(name: string, dims: readonly Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: {
          dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}

const bytesOf = (a: Float32Array | BigInt64Array): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export interface GraphBuilderOptions {
  /** Graph name, shown by tools such as Netron. */
  name: string;
  /**
   * Where large weights go. Must be in the directory the `.onnx` file is saved to. Without it
   * every weight is inline (fine for small graphs under 2 GB).
   */
  weightsFile?: string;
}

/**
 * Builds an ONNX graph op by op. Each op returns its output {@link Value}, so model code reads
 * like the math; nodes are named after the module scope they were created in.
 *
 * @example
 * const g = new GraphBuilder({ name: 'mapping' });
 * const z = g.input('z', ['N', 512]);
 * g.output(g.op('Relu', [z]), 'w', ['N', 512]);
 * const bytes = g.toBytes();
 */
export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private readonly constants = new Map<string, Value>();
  private readonly scopes: string[] = [];
  private readonly external?: ExternalDataWriter;
  private counter = 0;

  constructor(private readonly options: GraphBuilderOptions) {
    if (options.weightsFile) this.external = new ExternalDataWriter(options.weightsFile);
  }

  /** Runs `body` with node and weight names prefixed by `name` (a state-dict path). */
  scope<T>(name: string, body: () => T): T {
    this.scopes.push(name);
    try {
      return body();
    } finally {
      this.scopes.pop();
    }
  }

  private fresh(hint: string): string {
    const base = [...this.scopes, hint].join('.');
    let name = base;
    while (this.names.has(name)) name = `${base}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  input(name: string, dims: readonly Dim[]): Value {
    if (this.names.has(name)) throw new Error(`duplicate graph input ${name}`);
    this.names.add(name);
    this.inputs.push(valueInfo(name, dims));
    return new Value(name);
  }

  output(value: Value, name: string, dims: readonly Dim[]): void {
    if (this.names.has(name)) throw new Error(`duplicate graph output ${name}`);
    this.names.add(name);
    this.nodes.push({ opType: 'Identity', input: [value.name], output: [name], name });
    this.outputs.push(valueInfo(name, dims));
  }

  /** A float32 weight; large ones go to the external data file at once. */
  weight(name: string, dims: readonly number[], data: Float32Array): Value {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== data.length) {
      throw new RangeError(
        `weight ${name}: [${dims.join(',')}] needs ${count} values, got ${data.length}`,
      );
    }
    return this.tensor(this.fresh(name), onnx.TensorProto.DataType.FLOAT, dims, bytesOf(data));
  }

  private tensor(
    name: string,
    dataType: number,
    dims: readonly number[],
    bytes: Uint8Array,
  ): Value {
    const proto: onnxProto.onnx.ITensorProto = { name, dataType, dims: [...dims] };
    if (this.external && bytes.length >= EXTERNAL_THRESHOLD) {
      const { offset, length } = this.external.append(bytes);
      proto.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      proto.externalData = [
        { key: 'location', value: basename(this.external.path) },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(length) },
      ];
    } else {
      proto.rawData = bytes.slice();
    }
    this.initializers.push(proto);
    return new Value(name);
  }

  /** A small float32 constant, shared by every op that asks for the same values. */
  constFloat(values: readonly number[], dims: readonly number[] = [values.length]): Value {
    const key = `f[${dims.join(',')}]${values.join(',')}`;
    const hit = this.constants.get(key);
    if (hit) return hit;
    const name = `const_f_${this.constants.size}`;
    this.names.add(name);
    const value = this.tensor(
      name,
      onnx.TensorProto.DataType.FLOAT,
      dims,
      bytesOf(Float32Array.from(values)),
    );
    this.constants.set(key, value);
    return value;
  }

  /** A small int64 constant (shapes, axes), shared like {@link constFloat}. */
  constInt(values: readonly number[]): Value {
    const key = `i${values.join(',')}`;
    const hit = this.constants.get(key);
    if (hit) return hit;
    const name = `const_i_${this.constants.size}`;
    this.names.add(name);
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    const value = this.tensor(
      name,
      onnx.TensorProto.DataType.INT64,
      [values.length],
      bytesOf(data),
    );
    this.constants.set(key, value);
    return value;
  }

  /** Adds one node; `''` marks an omitted optional input. Returns its first output. */
  op(type: string, inputs: readonly (Value | '')[], attrs: Record<string, Attr> = {}): Value {
    return this.opN(type, inputs, 1, attrs)[0]!;
  }

  /** Adds one node with `outputs` outputs. */
  opN(
    type: string,
    inputs: readonly (Value | '')[],
    outputs: number,
    attrs: Record<string, Attr> = {},
  ): Value[] {
    const name = this.fresh(type);
    const outs = Array.from({ length: outputs }, (_, i) =>
      i === 0 ? name : this.fresh(`${type}_out${i}`),
    );
    this.nodes.push({
      opType: type,
      name,
      input: inputs.map((v) => (v === '' ? '' : v.name)),
      output: outs,
      attribute: Object.keys(attrs)
        .sort()
        .map((k) => attribute(k, attrs[k]!)),
    });
    return outs.map((o) => new Value(o));
  }

  /** Finishes the graph and returns the serialized ModelProto; closes the weights file. */
  toBytes(): Uint8Array {
    this.external?.close();
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'pastiche',
      opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: this.options.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
