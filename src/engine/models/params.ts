import { CheckpointError } from '../checkpoint/errors.ts';
import type { StateDict } from '../checkpoint/tensor.ts';

/** A weight read from a checkpoint: its shape and float32 values. */
export interface Param {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * Read access to one state dict, scoped by key prefix, that names the file and the full key
 * when something is missing or has the wrong rank.
 */
export class Params {
  constructor(
    private readonly stateDict: StateDict,
    readonly file: string,
    readonly prefix = '',
  ) {}

  /** The same state dict, with `name.` appended to the prefix. */
  at(name: string | number): Params {
    return new Params(this.stateDict, this.file, `${this.prefix}${name}.`);
  }

  has(key: string): boolean {
    return this.stateDict.has(this.prefix + key);
  }

  shape(key: string, rank?: number): readonly number[] {
    const full = this.prefix + key;
    const tensor = this.stateDict.get(full);
    if (!tensor) throw new CheckpointError('missing-key', this.file, `missing tensor ${full}`);
    if (rank !== undefined && tensor.shape.length !== rank) {
      throw new CheckpointError(
        'bad-shape',
        this.file,
        `${full} has shape [${tensor.shape.join(',')}], expected ${rank} dimensions`,
      );
    }
    return tensor.shape;
  }

  get(key: string, rank?: number): Param {
    const shape = this.shape(key, rank);
    return { shape, data: this.stateDict.get(this.prefix + key)!.float32() };
  }

  /** How many consecutive `<prefix><i>.<suffix>` keys exist from `start` on. */
  count(suffix: string, start = 0): number {
    let n = 0;
    while (this.has(`${start + n}.${suffix}`)) n++;
    return n;
  }

  /** Throws unless `actual` equals `expected`, naming the key. */
  expect(key: string, what: string, actual: number, expected: number): void {
    if (actual !== expected) {
      throw new CheckpointError(
        'bad-shape',
        this.file,
        `${this.prefix}${key}: ${what} is ${actual}, expected ${expected}`,
      );
    }
  }
}
