/**
 * Cuts a serialized ONNX model in two at a tensor: a head that computes everything that tensor
 * needs, and a tail that computes the model's outputs from what the head handed over. Running the
 * head then the tail does the model's work once; the head alone gives the cut tensor early.
 * Initializers keep their external-data references, so both halves read the original weights
 * file: nothing is duplicated on disk or, once loaded, in memory.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type ValueInfo = onnxProto.onnx.IValueInfoProto;

export interface SplitModel {
  head: Uint8Array;
  tail: Uint8Array;
  /** Tensors the head outputs and the tail takes, besides the model's own inputs. */
  handover: string[];
}

/** Nodes (indices) needed to compute `targets`, not looking past tensors in `stop`. */
function closure(
  nodes: readonly NodeProto[],
  producer: ReadonlyMap<string, number>,
  targets: Iterable<string>,
  stop: ReadonlySet<number> = new Set(),
): Set<number> {
  const needed = new Set<number>();
  const todo = [...targets];
  while (todo.length > 0) {
    const i = producer.get(todo.pop()!);
    if (i === undefined || needed.has(i) || stop.has(i)) continue;
    needed.add(i);
    for (const input of nodes[i]!.input ?? []) if (input) todo.push(input);
  }
  return needed;
}

/** A dimension of a declared tensor: a size or a symbolic name (`'B'`). */
export type SplitDim = number | string;

/**
 * Splits `model` at tensor `cut`; the head also outputs it as `cutName`. Throws if `cut` is not
 * a tensor some node produces. `dims` declares the shapes of handed-over tensors (see
 * {@link handoverDims}): ONNX Runtime lays convolutions out for the CPU only where it knows
 * the channel count, so a tail with shapeless inputs runs slower.
 */
export function splitModel(
  model: Uint8Array,
  cut: string,
  cutName: string,
  dims: ReadonlyMap<string, readonly SplitDim[]> = new Map(),
): SplitModel {
  const proto = onnx.ModelProto.decode(model);
  const graph = proto.graph!;
  const nodes = graph.node ?? [];
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => (n.output ?? []).forEach((o) => producer.set(o, i)));
  if (!producer.has(cut)) throw new Error(`${graph.name}: no tensor named ${cut} to cut at`);

  const head = closure(nodes, producer, [cut]);
  const tail = closure(
    nodes,
    producer,
    (graph.output ?? []).map((o) => o.name!),
    head,
  );
  const headOutputs = new Set<string>();
  for (const i of tail) {
    for (const input of nodes[i]!.input ?? []) {
      const from = producer.get(input);
      if (from !== undefined && head.has(from)) headOutputs.add(input);
    }
  }
  const handover = [...headOutputs].sort();
  const untyped = (name: string): ValueInfo => {
    const shape = dims.get(name);
    return {
      name,
      type: {
        tensorType: {
          elemType: onnx.TensorProto.DataType.FLOAT,
          ...(shape && {
            shape: {
              dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
            },
          }),
        },
      },
    };
  };

  const part = (
    name: string,
    indices: Set<number>,
    outputs: ValueInfo[],
    extraInputs: ValueInfo[],
    extraNodes: NodeProto[] = [],
  ): Uint8Array => {
    const chosen = nodes.filter((_, i) => indices.has(i)).concat(extraNodes);
    const used = new Set(chosen.flatMap((n) => n.input ?? []));
    return onnx.ModelProto.encode(
      onnx.ModelProto.create({
        ...proto,
        graph: {
          name,
          node: chosen,
          initializer: (graph.initializer ?? []).filter((t) => used.has(t.name!)),
          input: [...(graph.input ?? []).filter((v) => used.has(v.name!)), ...extraInputs],
          output: outputs,
        },
      }),
    ).finish();
  };

  return {
    head: part(
      `${graph.name}-head`,
      head,
      [untyped(cutName), ...handover.map(untyped)],
      [],
      [{ opType: 'Identity', name: cutName, input: [cut], output: [cutName] }],
    ),
    tail: part(`${graph.name}-tail`, tail, graph.output ?? [], handover.map(untyped)),
    handover,
  };
}
