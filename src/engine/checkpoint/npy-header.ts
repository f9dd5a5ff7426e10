import { CheckpointError } from './errors.ts';
import type { DType } from './tensor.ts';

/** A Python literal as it appears in a `.npy` header. */
export type HeaderValue =
  string | number | boolean | null | readonly HeaderValue[] | ReadonlyMap<string, HeaderValue>;

/** The three fields every `.npy` header carries. */
export interface NpyHeader {
  readonly descr: string;
  readonly fortranOrder: boolean;
  readonly shape: readonly number[];
}

// numpy itself refuses headers above 10 000 characters unless told otherwise; nesting deeper
// than a structured dtype's needs is certainly not a real header.
const MAX_DEPTH = 16;

/**
 * Parses the header dict (`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`) with a
 * tiny literal grammar instead of anything eval-like: strings, ints, True/False/None, tuples,
 * lists and dicts — the whole of what numpy's `repr` writes there.
 */
export function parseHeaderLiteral(text: string, file: string): HeaderValue {
  let pos = 0;
  const fail = (what: string): never => {
    throw new CheckpointError('bad-format', file, `.npy header: ${what} at character ${pos}`);
  };
  const skip = (): void => {
    while (pos < text.length && ' \t\r\n'.includes(text[pos] ?? '')) pos++;
  };
  const expect = (ch: string): void => {
    skip();
    if (text[pos] !== ch) fail(`expected '${ch}'`);
    pos++;
  };
  const sequence = (close: string, depth: number): HeaderValue[] => {
    const items: HeaderValue[] = [];
    for (;;) {
      skip();
      if (text[pos] === close) break;
      items.push(value(depth + 1));
      skip();
      if (text[pos] === ',') pos++;
      else if (text[pos] !== close) fail(`expected ',' or '${close}'`);
    }
    pos++;
    return items;
  };
  const value = (depth: number): HeaderValue => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    skip();
    const ch = text[pos];
    if (ch === "'" || ch === '"') {
      const end = text.indexOf(ch, pos + 1);
      if (end < 0) fail('unterminated string');
      const s = text.slice(pos + 1, end);
      if (s.includes('\\')) fail('escapes in strings are not supported');
      pos = end + 1;
      return s;
    }
    if (ch === '(' || ch === '[') {
      pos++;
      return sequence(ch === '(' ? ')' : ']', depth);
    }
    if (ch === '{') {
      pos++;
      const dict = new Map<string, HeaderValue>();
      for (;;) {
        skip();
        if (text[pos] === '}') break;
        const key = value(depth + 1);
        if (typeof key !== 'string') fail('dict key is not a string');
        expect(':');
        dict.set(key as string, value(depth + 1));
        skip();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== '}') fail("expected ',' or '}'");
      }
      pos++;
      return dict;
    }
    const word = /^(?:-?\d+L?|True|False|None)/.exec(text.slice(pos, pos + 32))?.[0];
    if (word === undefined) return fail('unexpected token');
    pos += word.length;
    if (word === 'True') return true;
    if (word === 'False') return false;
    if (word === 'None') return null;
    const n = Number(word.replace('L', ''));
    if (!Number.isSafeInteger(n)) fail(`integer ${word} is out of range`);
    return n;
  };
  const result = value(0);
  skip();
  if (pos !== text.length) fail('trailing characters');
  return result;
}

/** Extracts and validates descr / fortran_order / shape. */
export function parseNpyHeader(text: string, file: string): NpyHeader {
  const dict = parseHeaderLiteral(text, file);
  if (!(dict instanceof Map)) {
    throw new CheckpointError('bad-format', file, '.npy header is not a dict');
  }
  const descr = dict.get('descr');
  const fortranOrder = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (typeof descr !== 'string') {
    throw new CheckpointError(
      'unsupported',
      file,
      '.npy header: structured dtypes are not supported',
    );
  }
  if (typeof fortranOrder !== 'boolean') {
    throw new CheckpointError('bad-format', file, '.npy header: fortran_order is missing');
  }
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && d >= 0)) {
    throw new CheckpointError('bad-format', file, '.npy header: shape is not a tuple of sizes');
  }
  return { descr, fortranOrder, shape: shape as number[] };
}

const KINDS: ReadonlyMap<string, DType> = new Map([
  ['f2', 'float16'],
  ['f4', 'float32'],
  ['f8', 'float64'],
  ['i4', 'int32'],
  ['i8', 'int64'],
  ['u1', 'uint8'],
  ['b1', 'bool'],
]);

/**
 * Maps a numpy type string (`'<f4'`, `'>f8'`, `'|b1'`, or a bare `'f4'` with the byte order
 * given separately, as a pickled dtype does) to a dtype and byte order; `'object'` for `O`.
 */
export function parseDescr(
  descr: string,
  file: string,
  order = '<',
): { dtype: DType; littleEndian: boolean } | 'object' {
  const match = /^([<>|=]?)([a-zA-Z]\d*)$/.exec(descr);
  if (match === null) {
    throw new CheckpointError('unsupported', file, `numpy dtype '${descr}' is not supported`);
  }
  const code = match[2] ?? '';
  if (code.startsWith('O')) return 'object';
  const dtype = KINDS.get(code);
  if (dtype === undefined) {
    throw new CheckpointError('unsupported', file, `numpy dtype '${descr}' is not supported`);
  }
  const byteOrder = match[1] || order;
  // '=' is native order and '|' means order does not apply; numpy only runs little-endian here.
  return { dtype, littleEndian: byteOrder !== '>' };
}
