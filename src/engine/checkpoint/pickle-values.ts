import { CheckpointError } from './errors.ts';
import type { LazyTensor } from './tensor.ts';

/**
 * Base class for values a caller injects into the pickle (torch storages from the persistent-id
 * callback). The interpreter passes them around untouched.
 */
export abstract class PyNative {}

/** A module-level name the pickle referenced and the whitelist allowed. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * An instance of an allowed class we do not model natively (numpy arrays and dtypes): the
 * constructor arguments, plus whatever BUILD handed to `__setstate__`. The caller interprets it.
 */
export class PyObject {
  state: PyValue | undefined = undefined;

  constructor(
    readonly type: string,
    readonly args: readonly PyValue[],
  ) {}
}

export type PyDict = Map<PyValue, PyValue>;

/** Python values: tuples are frozen arrays, lists are plain arrays, ints above 2^53 are bigints. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | readonly PyValue[]
  | PyDict
  | LazyTensor
  | PyGlobal
  | PyObject
  | PyNative;

/** What an allowed global does when the pickle calls it (REDUCE / NEWOBJ); absent: not callable. */
export interface GlobalImpl {
  readonly call?: (args: readonly PyValue[], file: string) => PyValue;
}

export function isTuple(v: PyValue | undefined): v is readonly PyValue[] {
  return Array.isArray(v) && Object.isFrozen(v);
}

export function isList(v: PyValue | undefined): v is PyValue[] {
  return Array.isArray(v) && !Object.isFrozen(v);
}

/** Makes a Python tuple: frozen, so {@link isTuple} can tell it from a list. */
export const tuple = (items: PyValue[]): readonly PyValue[] => Object.freeze(items);

/** `collections.OrderedDict`: a Map keeps insertion order, which is all we need of it. */
export const ORDERED_DICT: GlobalImpl = {
  call: (args, file) => {
    const dict: PyDict = new Map();
    const items = args[0];
    if (args.length === 0 || items === null || items === undefined) return dict;
    if (!Array.isArray(items)) {
      throw new CheckpointError('bad-format', file, 'OrderedDict() called with a non-list');
    }
    for (const pair of items as readonly PyValue[]) {
      if (!(isTuple(pair) || isList(pair)) || pair.length !== 2) {
        throw new CheckpointError('bad-format', file, 'OrderedDict() item is not a pair');
      }
      dict.set(pair[0] ?? null, pair[1] ?? null);
    }
    return dict;
  },
};
