import { ELEMENT_SIZE, checkedNumel, decodeFloat32, fortranStrides, gather } from './convert.ts';
import { CheckpointError, asCheckpointError } from './errors.ts';
import { closeQuietly, openForReading, readAt } from './io.ts';
import { parseDescr, parseNpyHeader } from './npy-header.ts';
import { ORDERED_DICT, PyGlobal, PyObject, isList, isTuple, unpickle } from './pickle.ts';
import type { GlobalImpl, PyValue } from './pickle.ts';
import type { DType, LazyTensor } from './tensor.ts';

/** A plain array, or the `{name: array}` dict that `np.save(path, some_dict)` pickles. */
export type NpyContent =
  | { readonly kind: 'array'; readonly tensor: LazyTensor }
  /** In the file's key order, which for exstyle codes is the style id. */
  | { readonly kind: 'dict'; readonly entries: Map<string, LazyTensor> };

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const MAX_HEADER = 1 << 20;
// Exstyle tables are 4–12 MB; an object array is unpickled in memory, so bound it (10×).
const MAX_OBJECT_BYTES = 128 * 1024 * 1024;

const NDARRAY = 'numpy.ndarray';
const DTYPE = 'numpy.dtype';

/** `_reconstruct(ndarray, (0,), b'b')` makes an empty array that a BUILD then fills in. */
const RECONSTRUCT: GlobalImpl = {
  call: (args, file) => {
    const cls = args[0];
    if (!(cls instanceof PyGlobal) || cls.qualifiedName !== NDARRAY) {
      throw new CheckpointError('bad-format', file, '_reconstruct of something other than ndarray');
    }
    return new PyObject(NDARRAY, []);
  },
};

/** What an `np.save` pickle may reference (numpy 1.x and 2.x module names). */
export const NUMPY_GLOBALS: ReadonlyMap<string, GlobalImpl> = new Map<string, GlobalImpl>([
  ['numpy.core.multiarray._reconstruct', RECONSTRUCT],
  ['numpy._core.multiarray._reconstruct', RECONSTRUCT],
  [NDARRAY, {}],
  [DTYPE, { call: (args) => new PyObject(DTYPE, args) }],
  ['collections.OrderedDict', ORDERED_DICT],
]);

function inMemoryTensor(dtype: DType, shape: readonly number[], values: Float32Array): LazyTensor {
  // A copy per call, like the file-backed tensors, so a caller may scale weights in place.
  return { dtype, shape, float32: () => values.slice() };
}

/** Turns a pickled ndarray — `PyObject` + BUILD state `(1, shape, dtype, fortran, bytes)` — into a tensor. */
function pickledArray(value: PyValue, file: string, what: string): LazyTensor {
  const state = value instanceof PyObject && value.type === NDARRAY ? value.state : undefined;
  if (!isTuple(state) || state.length !== 5) {
    throw new CheckpointError('bad-format', file, `${what} is not a numpy array`);
  }
  const [, rawShape, dtypeObj, fortran, data] = state;
  if (!isTuple(rawShape)) throw new CheckpointError('bad-format', file, `${what} has no shape`);
  const shape = rawShape.map((d) => {
    if (typeof d !== 'number') {
      throw new CheckpointError('bad-format', file, `${what} has no shape`);
    }
    return d;
  });
  const code =
    dtypeObj instanceof PyObject && dtypeObj.type === DTYPE ? dtypeObj.args[0] : undefined;
  const order =
    dtypeObj instanceof PyObject && isTuple(dtypeObj.state) ? dtypeObj.state[1] : undefined;
  if (typeof code !== 'string') {
    throw new CheckpointError('bad-format', file, `${what} has no dtype`);
  }
  const parsed = parseDescr(code, file, typeof order === 'string' ? order : '<');
  if (parsed === 'object' || !(data instanceof Uint8Array)) {
    throw new CheckpointError('bad-format', file, `${what} is an object array, not numbers`);
  }
  const numel = checkedNumel(shape, file, what);
  if (numel * ELEMENT_SIZE[parsed.dtype] !== data.byteLength) {
    throw new CheckpointError(
      'bad-shape',
      file,
      `${what}: shape [${shape.join(', ')}] of ${parsed.dtype} does not match its ${data.byteLength} bytes`,
    );
  }
  let values = decodeFloat32(data, parsed.dtype, parsed.littleEndian, file, what);
  if (fortran === true) values = gather(values, shape, fortranStrides(shape));
  return inMemoryTensor(parsed.dtype, shape, values);
}

/** The dict inside a pickled 0-d object array, each value decoded to a tensor. */
function pickledDict(root: PyValue, file: string): Map<string, LazyTensor> {
  const state = root instanceof PyObject && root.type === NDARRAY ? root.state : undefined;
  const shape = isTuple(state) ? state[1] : undefined;
  const items = isTuple(state) ? state[4] : undefined;
  if (!isTuple(shape) || shape.length !== 0 || !isList(items) || items.length !== 1) {
    throw new CheckpointError('bad-format', file, 'object array is not a single pickled dict');
  }
  const dict = items[0];
  if (!(dict instanceof Map)) {
    throw new CheckpointError(
      'bad-format',
      file,
      'object array holds something other than a dict of arrays',
    );
  }
  const entries = new Map<string, LazyTensor>();
  for (const [key, value] of dict) {
    if (typeof key !== 'string') {
      throw new CheckpointError('bad-format', file, 'dict key is not a string');
    }
    entries.set(key, pickledArray(value, file, `entry ${key}`));
  }
  return entries;
}

/**
 * Reads a `.npy` file. Plain arrays come back as a tensor that reads the file again on each
 * `float32()` (so no fd is left open); pickled dicts are decoded now, as they must be unpickled
 * whole anyway. Only numpy's array-rebuilding globals are allowed in the pickle.
 */
export function readNpy(file: string): NpyContent {
  const { fd, size } = openForReading(file);
  try {
    if (size < 10) {
      throw new CheckpointError(size === 0 ? 'truncated' : 'bad-magic', file, 'not a .npy file');
    }
    const preamble = readAt(fd, file, 0, 12 <= size ? 12 : 10);
    if (!MAGIC.every((b, i) => preamble[i] === b)) {
      throw new CheckpointError('bad-magic', file, 'not a .npy file');
    }
    const major = preamble[6] ?? 0;
    const view = new DataView(preamble.buffer);
    if (major < 1 || major > 3) {
      throw new CheckpointError('unsupported', file, `.npy format version ${major}`);
    }
    if (major > 1 && preamble.length < 12) {
      throw new CheckpointError('truncated', file, '.npy header is cut off');
    }
    const headerStart = major === 1 ? 10 : 12;
    const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
    if (headerLength > MAX_HEADER) {
      throw new CheckpointError('bad-format', file, '.npy header is absurdly long');
    }
    const headerBytes = readAt(fd, file, headerStart, headerLength);
    // Versions 1 and 2 use latin1 headers; version 3 allows UTF-8 (for field names).
    const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(headerBytes);
    const header = parseNpyHeader(text.trim(), file);
    const dataOffset = headerStart + headerLength;
    const available = size - dataOffset;
    const descr = parseDescr(header.descr, file);

    if (descr === 'object') {
      if (available > MAX_OBJECT_BYTES) {
        throw new CheckpointError('unsupported', file, 'pickled .npy is too large');
      }
      const pickle = readAt(fd, file, dataOffset, available);
      const { value } = unpickle(pickle, { file, globals: NUMPY_GLOBALS });
      return { kind: 'dict', entries: pickledDict(value, file) };
    }

    const { dtype, littleEndian } = descr;
    const shape = header.shape;
    const numel = checkedNumel(shape, file, 'array');
    const bytes = numel * ELEMENT_SIZE[dtype];
    if (bytes > available) {
      throw new CheckpointError(
        'bad-shape',
        file,
        `header declares shape [${shape.join(', ')}] of ${dtype} (${bytes} bytes) but only ${available} bytes follow`,
      );
    }
    const fortran = header.fortranOrder;
    const tensor: LazyTensor = {
      dtype,
      shape,
      float32: () => {
        const again = openForReading(file);
        try {
          const raw = readAt(again.fd, file, dataOffset, bytes);
          const values = decodeFloat32(raw, dtype, littleEndian, file, 'array');
          return fortran ? gather(values, shape, fortranStrides(shape)) : values;
        } finally {
          closeQuietly(again.fd);
        }
      },
    };
    return { kind: 'array', tensor };
  } catch (err) {
    throw asCheckpointError(err, file);
  } finally {
    closeQuietly(fd);
  }
}
