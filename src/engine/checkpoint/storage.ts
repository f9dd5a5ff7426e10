import {
  ELEMENT_SIZE,
  checkedNumel,
  decodeFloat32,
  gather,
  isContiguous,
  stridedSpan,
} from './convert.ts';
import { CheckpointError } from './errors.ts';
import { closeQuietly, readAt } from './io.ts';
import { ORDERED_DICT, PyGlobal, PyNative, isTuple } from './pickle.ts';
import type { GlobalImpl, PyValue } from './pickle.ts';
import type { DType, LazyTensor } from './tensor.ts';

/** The open file behind a checkpoint's tensors; reads fail cleanly once it is closed. */
export class CheckpointFile {
  private fd: number | null;

  constructor(
    fd: number,
    readonly file: string,
    readonly size: number,
    readonly littleEndian: boolean,
  ) {
    this.fd = fd;
  }

  read(position: number, length: number): Uint8Array {
    if (this.fd === null) throw new CheckpointError('closed', this.file, 'checkpoint was closed');
    return readAt(this.fd, this.file, position, length);
  }

  close(): void {
    if (this.fd !== null) closeQuietly(this.fd);
    this.fd = null;
  }
}

/**
 * One serialized storage. Its byte offset is known up front in a zip archive but only after
 * scanning the data section in the legacy format, hence the mutable `dataOffset`.
 */
export class StorageBlob {
  dataOffset = -1;

  constructor(
    readonly source: CheckpointFile,
    readonly key: string,
    readonly dtype: DType,
    readonly numel: number,
  ) {}
}

/** What a persistent id resolves to: a storage, or (legacy format only) a view into one. */
export class TorchStorage extends PyNative {
  constructor(
    readonly blob: StorageBlob,
    readonly elementOffset: number,
    readonly numel: number,
  ) {
    super();
  }
}

const STORAGE_DTYPES: ReadonlyMap<string, DType> = new Map([
  ['torch.FloatStorage', 'float32'],
  ['torch.HalfStorage', 'float16'],
  ['torch.DoubleStorage', 'float64'],
  ['torch.LongStorage', 'int64'],
  ['torch.IntStorage', 'int32'],
  ['torch.ByteStorage', 'uint8'],
  ['torch.BoolStorage', 'bool'],
]);

// Real torch storage types this reader cannot convert: naming them is allowed (so the error
// says 'unsupported', not 'forbidden-global'), using them is not.
const UNSUPPORTED_STORAGES = [
  'torch.BFloat16Storage',
  'torch.CharStorage',
  'torch.ShortStorage',
  'torch.ComplexFloatStorage',
  'torch.ComplexDoubleStorage',
];

export function storageDtype(type: PyValue | undefined, file: string): DType {
  const dtype = type instanceof PyGlobal ? STORAGE_DTYPES.get(type.qualifiedName) : undefined;
  if (type instanceof PyGlobal && UNSUPPORTED_STORAGES.includes(type.qualifiedName)) {
    throw new CheckpointError(
      'unsupported',
      file,
      `tensors of ${type.qualifiedName} are not supported`,
    );
  }
  if (dtype === undefined) {
    throw new CheckpointError('bad-format', file, 'persistent id names no storage type');
  }
  return dtype;
}

export function intArg(value: PyValue | undefined, file: string, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new CheckpointError('bad-shape', file, `${what} is ${String(value)}, not a size`);
  }
  return value;
}

export function shapeArg(value: PyValue | undefined, file: string, what: string): number[] {
  if (!isTuple(value)) throw new CheckpointError('bad-format', file, `${what} is not a tuple`);
  return value.map((d, i) => intArg(d, file, `${what}[${i}]`));
}

/** A tensor viewing part of a storage; `float32()` reads only the bytes the view touches. */
class StorageTensor implements LazyTensor {
  readonly dtype: DType;
  private readonly span: number;

  constructor(
    private readonly storage: TorchStorage,
    private readonly offset: number,
    readonly shape: readonly number[],
    private readonly strides: readonly number[],
  ) {
    const { blob } = storage;
    const what = `tensor in storage ${blob.key}`;
    this.dtype = blob.dtype;
    const numel = checkedNumel(shape, blob.source.file, what);
    this.span = stridedSpan(shape, strides, blob.source.file, what);
    // Zero (or overlapping) strides make a view with more elements than its storage holds:
    // torch.save keeps `expand()`ed tensors that way, but no weight is one, and reading it
    // would turn a few bytes on disk into as many gigabytes in memory.
    if (numel > storage.numel) {
      throw new CheckpointError(
        'bad-shape',
        blob.source.file,
        `${what}: shape [${shape.join(', ')}] with strides [${strides.join(', ')}] has ${numel} elements, more than the ${storage.numel} its storage holds`,
      );
    }
    if (this.span > 0 && offset + this.span > storage.numel) {
      throw new CheckpointError(
        'bad-shape',
        blob.source.file,
        `${what}: shape [${shape.join(', ')}] at offset ${offset} needs ${offset + this.span} elements, storage has ${storage.numel}`,
      );
    }
  }

  float32(): Float32Array {
    const { blob } = this.storage;
    const file = blob.source.file;
    const size = ELEMENT_SIZE[blob.dtype];
    if (blob.dataOffset < 0) {
      throw new CheckpointError('bad-format', file, `storage ${blob.key} was never located`);
    }
    const start = blob.dataOffset + (this.storage.elementOffset + this.offset) * size;
    const raw = blob.source.read(start, this.span * size);
    const values = decodeFloat32(
      raw,
      blob.dtype,
      blob.source.littleEndian,
      file,
      `storage ${blob.key}`,
    );
    return isContiguous(this.shape, this.strides)
      ? values
      : gather(values, this.shape, this.strides);
  }
}

/** `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks[, metadata])` */
const REBUILD_TENSOR_V2: GlobalImpl = {
  call: (args, file) => {
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof TorchStorage)) {
      throw new CheckpointError('bad-format', file, '_rebuild_tensor_v2 without a storage');
    }
    return new StorageTensor(
      storage,
      intArg(offset, file, 'storage offset'),
      shapeArg(size, file, 'tensor size'),
      shapeArg(stride, file, 'tensor stride'),
    );
  },
};

/** Everything a torch.save pickle may reference; see docs/dualstylegan.md §5. */
export const TORCH_GLOBALS: ReadonlyMap<string, GlobalImpl> = new Map<string, GlobalImpl>([
  ['collections.OrderedDict', ORDERED_DICT],
  ['torch._utils._rebuild_tensor_v2', REBUILD_TENSOR_V2],
  // Storage classes are only ever named inside persistent ids, never called.
  ...[...STORAGE_DTYPES.keys(), ...UNSUPPORTED_STORAGES].map((name): [string, GlobalImpl] => [
    name,
    {},
  ]),
]);
