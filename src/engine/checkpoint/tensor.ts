/** Element types that appear in the released checkpoints and `.npy` tables. */
export type DType = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool';

/**
 * A tensor whose bytes are read only when asked for. Checkpoint readers hand these out so that
 * a 1.2 GB file never has to be in memory at once: each `float32()` call reads and converts
 * just that tensor, C-ordered and contiguous.
 */
export interface LazyTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Reads the values, converted to float32 in row-major order. */
  float32(): Float32Array;
}

/** A PyTorch state dict: key → tensor, in the file's order. */
export type StateDict = ReadonlyMap<string, LazyTensor>;

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Wraps values already in memory as a {@link LazyTensor}. */
export function tensorOf(shape: readonly number[], data: Float32Array): LazyTensor {
  if (numel(shape) !== data.length) {
    throw new RangeError(`tensor of shape [${shape.join(',')}] cannot hold ${data.length} values`);
  }
  return { dtype: 'float32', shape: [...shape], float32: () => data };
}

/** Narrows a value of unknown origin (e.g. a pickle result) to a {@link LazyTensor}. */
export function isLazyTensor(value: unknown): value is LazyTensor {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<LazyTensor>).float32 === 'function' &&
    Array.isArray((value as Partial<LazyTensor>).shape) &&
    typeof (value as Partial<LazyTensor>).dtype === 'string'
  );
}
