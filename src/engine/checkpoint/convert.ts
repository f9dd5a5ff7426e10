import { endianness } from 'node:os';
import { CheckpointError } from './errors.ts';
import type { DType } from './tensor.ts';

/** Bytes per element of each {@link DType}. */
export const ELEMENT_SIZE: Readonly<Record<DType, number>> = {
  float32: 4,
  float16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  uint8: 1,
  bool: 1,
};

// Integers above 2^24 lose precision in float32; the only integer tensors we expect are
// counters such as BatchNorm's num_batches_tracked, so anything larger is refused loudly.
const MAX_EXACT_FLOAT32_INT = 2 ** 24;

const HOST_LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Product of a shape, refusing negative, fractional or overflowing dimensions so that a
 * corrupt header cannot make a later allocation size wrap or become NaN.
 */
export function checkedNumel(shape: readonly number[], file: string, what: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new CheckpointError('bad-shape', file, `${what}: invalid dimension ${d}`);
    }
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) {
      throw new CheckpointError(
        'bad-shape',
        file,
        `${what}: shape [${shape.join(', ')}] is absurd`,
      );
    }
  }
  return n;
}

/** Row-major strides, in elements. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d] ?? 1;
  }
  return strides;
}

/** Column-major (Fortran) strides, in elements. */
export function fortranStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = 0; d < shape.length; d++) {
    strides[d] = s;
    s *= shape[d] ?? 1;
  }
  return strides;
}

export function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  const expected = contiguousStrides(shape);
  // A dimension of size 1 is never stepped over, so its stride is irrelevant (torch is lax there).
  return shape.every((d, i) => d === 1 || strides[i] === expected[i]);
}

/**
 * Number of elements from the first to the last one a strided view touches, so that only
 * that span is read from disk. Negative strides cannot come out of torch.save.
 */
export function stridedSpan(
  shape: readonly number[],
  strides: readonly number[],
  file: string,
  what: string,
): number {
  if (strides.length !== shape.length) {
    throw new CheckpointError(
      'bad-shape',
      file,
      `${what}: ${strides.length} strides for rank ${shape.length}`,
    );
  }
  if (checkedNumel(shape, file, what) === 0) return 0;
  let last = 0;
  shape.forEach((d, i) => {
    const s = strides[i] ?? 0;
    if (!Number.isSafeInteger(s) || s < 0) {
      throw new CheckpointError('bad-shape', file, `${what}: invalid stride ${s}`);
    }
    last += (d - 1) * s;
  });
  if (!Number.isSafeInteger(last + 1)) {
    throw new CheckpointError('bad-shape', file, `${what}: strides reach past any storage`);
  }
  return last + 1;
}

/** Copies a strided view out of `src` into a fresh row-major array. */
export function gather(
  src: Float32Array,
  shape: readonly number[],
  strides: readonly number[],
): Float32Array {
  const rank = shape.length;
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const index = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let i = 0; i < n; i++) {
    out[i] = src[offset] ?? 0;
    for (let d = rank - 1; d >= 0; d--) {
      const size = shape[d] ?? 1;
      const stride = strides[d] ?? 0;
      const next = (index[d] ?? 0) + 1;
      offset += stride;
      if (next < size) {
        index[d] = next;
        break;
      }
      index[d] = 0;
      offset -= stride * size;
    }
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Converts raw element bytes of any supported dtype to float32 values. */
export function decodeFloat32(
  bytes: Uint8Array,
  dtype: DType,
  littleEndian: boolean,
  file: string,
  what: string,
): Float32Array {
  const size = ELEMENT_SIZE[dtype];
  const n = Math.floor(bytes.byteLength / size);
  const out = new Float32Array(n);
  if (dtype === 'float32' && littleEndian === HOST_LITTLE_ENDIAN) {
    // One memcpy: the common case for every weight in the released checkpoints.
    new Uint8Array(out.buffer).set(bytes.subarray(0, n * 4));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'float32':
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, littleEndian);
      break;
    case 'float64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, littleEndian);
      break;
    case 'float16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, littleEndian));
      break;
    case 'int32':
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, littleEndian);
      break;
    case 'int64':
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(i * 8, littleEndian);
        if (v > MAX_EXACT_FLOAT32_INT || v < -MAX_EXACT_FLOAT32_INT) {
          throw new CheckpointError(
            'unsupported',
            file,
            `${what}: int64 value ${v} does not fit float32 exactly`,
          );
        }
        out[i] = Number(v);
      }
      break;
    case 'uint8':
    case 'bool':
      out.set(bytes.subarray(0, n));
      break;
  }
  return out;
}
