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

export interface UnpickleOptions {
  /** Named in every error. */
  readonly file: string;
  /** Allowed globals by qualified name (`module.name`); any other one is refused. */
  readonly globals: ReadonlyMap<string, GlobalImpl>;
  /** Resolves BINPERSID ids; without it a persistent id is a format error. */
  readonly persistentLoad?: (pid: PyValue) => PyValue;
  readonly maxMemo?: number;
  readonly maxDepth?: number;
}

export function isTuple(v: PyValue | undefined): v is readonly PyValue[] {
  return Array.isArray(v) && Object.isFrozen(v);
}

export function isList(v: PyValue | undefined): v is PyValue[] {
  return Array.isArray(v) && !Object.isFrozen(v);
}

const tuple = (items: PyValue[]): readonly PyValue[] => Object.freeze(items);

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
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new CheckpointError('bad-format', file, 'OrderedDict() item is not a pair');
      }
      dict.set((pair as readonly PyValue[])[0] ?? null, (pair as readonly PyValue[])[1] ?? null);
    }
    return dict;
  },
};

const utf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_LONG_BYTES = 64;
const MAX_LINE = 1024;

/**
 * Interprets a pickle without executing anything: each opcode is emulated on a value stack,
 * and GLOBAL can only resolve to the caller's whitelist. Memory and time are linear in the
 * pickle's size (every pushed value costs at least one input byte), plus explicit caps on the
 * memo and on MARK nesting. Returns the value and the offset just past STOP.
 */
export function unpickle(
  data: Uint8Array,
  options: UnpickleOptions,
  start = 0,
): { value: PyValue; end: number } {
  const { file, globals } = options;
  const maxMemo = options.maxMemo ?? 1 << 22;
  const maxDepth = options.maxDepth ?? 10_000;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let pos = start;
  let op = 0;
  let opPos = start;
  let stack: PyValue[] = [];
  const metastack: PyValue[][] = [];
  const memo = new Map<number, PyValue>();

  function fail(detail: string): never {
    throw new CheckpointError(
      'bad-format',
      file,
      `pickle opcode 0x${op.toString(16)} at ${opPos}: ${detail}`,
    );
  }
  function need(n: number): number {
    if (n < 0 || pos + n > data.byteLength) {
      throw new CheckpointError(
        'truncated',
        file,
        `pickle ends inside opcode 0x${op.toString(16)} at ${opPos}`,
      );
    }
    const at = pos;
    pos += n;
    return at;
  }
  const u8 = (): number => data[need(1)] ?? 0;
  const u16 = (): number => view.getUint16(need(2), true);
  const u32 = (): number => view.getUint32(need(4), true);
  function u64(): number {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${v} is absurd`);
    return Number(v);
  }
  function bytes(n: number): Uint8Array {
    const at = need(n);
    // A copy, so a kept value never pins the whole pickle buffer.
    return data.slice(at, at + n);
  }
  function text(n: number): string {
    const at = need(n);
    try {
      return utf8.decode(data.subarray(at, at + n));
    } catch {
      return fail('string is not valid UTF-8');
    }
  }
  function line(): string {
    const end = data.subarray(pos, pos + MAX_LINE + 1).indexOf(0x0a);
    if (end < 0) {
      if (data.byteLength - pos <= MAX_LINE) need(data.byteLength - pos + 1);
      fail('text argument too long');
    }
    return text(end + 1).slice(0, -1);
  }
  function pop(): PyValue {
    const v = stack.pop();
    if (v === undefined) fail('stack underflow');
    return v;
  }
  function top(): PyValue {
    const v = stack[stack.length - 1];
    if (v === undefined) fail('stack underflow');
    return v;
  }
  function popMark(): PyValue[] {
    const items = stack;
    const outer = metastack.pop();
    if (outer === undefined) fail('no MARK on the stack');
    stack = outer;
    return items;
  }
  function put(index: number): void {
    if (!memo.has(index) && memo.size >= maxMemo) fail(`memo exceeds ${maxMemo} entries`);
    memo.set(index, top());
  }
  function get(index: number): void {
    const v = memo.get(index);
    if (v === undefined) fail(`memo key ${index} was never stored`);
    stack.push(v);
  }
  function resolve(module: string, name: string): PyGlobal {
    if (!globals.has(`${module}.${name}`)) {
      throw new CheckpointError(
        'forbidden-global',
        file,
        `pickle references forbidden global ${module}.${name}; only ${[...globals.keys()].join(', ')} are allowed`,
      );
    }
    return new PyGlobal(module, name);
  }
  function call(callable: PyValue, args: PyValue): PyValue {
    if (!(callable instanceof PyGlobal)) fail('call of a non-global');
    if (!isTuple(args)) fail(`arguments of ${callable.qualifiedName} are not a tuple`);
    const impl = globals.get(callable.qualifiedName);
    if (impl?.call === undefined) fail(`${callable.qualifiedName} cannot be called`);
    return impl.call(args, file);
  }
  function setItems(target: PyValue, items: PyValue[]): void {
    if (!(target instanceof Map)) fail('SETITEM on a non-dict');
    if (items.length % 2 !== 0) fail('odd number of SETITEMS operands');
    for (let i = 0; i < items.length; i += 2) target.set(items[i] ?? null, items[i + 1] ?? null);
  }
  function appendItems(target: PyValue, items: PyValue[]): void {
    if (!isList(target)) fail('APPEND on a non-list');
    for (const item of items) target.push(item);
  }
  function long(n: number): number | bigint {
    if (n > MAX_LONG_BYTES) {
      throw new CheckpointError('unsupported', file, `pickle integer of ${n} bytes at ${opPos}`);
    }
    const raw = bytes(n);
    let v = 0n;
    for (let i = raw.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i] ?? 0);
    if (n > 0 && ((raw[n - 1] ?? 0) & 0x80) !== 0) v -= 1n << BigInt(8 * n);
    const safe = v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER);
    return safe ? Number(v) : v;
  }

  for (;;) {
    opPos = pos;
    op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) throw new CheckpointError('unsupported', file, 'pickle protocol above 5');
        break;
      case 0x95: // FRAME: an I/O hint only
        u64();
        break;
      case 0x2e: // STOP
        return { value: pop(), end: pos };
      case 0x28: // MARK
        if (metastack.length >= maxDepth) fail(`MARK nesting exceeds ${maxDepth}`);
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(view.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(long(u8()));
        break;
      case 0x8b: // LONG4
        stack.push(long(u32()));
        break;
      case 0x47: // BINFLOAT (big-endian, unlike everything else)
        stack.push(view.getFloat64(need(8), false));
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x54: // BINSTRING (Python 2 str; torch decodes it as UTF-8)
        stack.push(text(u32()));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(text(u8()));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()));
        break;
      case 0x42: // BINBYTES
        stack.push(bytes(u32()));
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(bytes(u64()));
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(tuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(tuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(tuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(tuple([pop(), b, c]));
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: {
        // DICT
        const dict: PyDict = new Map();
        setItems(dict, popMark());
        stack.push(dict);
        break;
      }
      case 0x61: {
        // APPEND
        const item = pop();
        appendItems(top(), [item]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        put(u8());
        break;
      case 0x72: // LONG_BINPUT
        put(u32());
        break;
      case 0x94: // MEMOIZE
        put(memo.size);
        break;
      case 0x68: // BINGET
        get(u8());
        break;
      case 0x6a: // LONG_BINGET
        get(u32());
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        stack.push(resolve(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') {
          fail('STACK_GLOBAL operands are not strings');
        }
        stack.push(resolve(module, name));
        break;
      }
      case 0x69: {
        // INST: protocol 0 class instantiation, allowed only through the same whitelist
        const module = line();
        const cls = resolve(module, line());
        stack.push(call(cls, tuple(popMark())));
        break;
      }
      case 0x6f: {
        // OBJ
        const [cls = null, ...args] = popMark();
        stack.push(call(cls, tuple(args)));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args) — for our allowed classes, the same as calling them
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        if (!(kwargs instanceof Map) || kwargs.size > 0)
          fail('keyword arguments are not supported');
        stack.push(call(pop(), args));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const target = top();
        if (target instanceof PyObject) {
          if (target.state !== undefined) fail(`${target.type} built twice`);
          target.state = state;
        } else if (!(target instanceof Map && (state instanceof Map || isTuple(state)))) {
          // A dict subclass's state is its instance __dict__ (e.g. a state dict's _metadata
          // versions), which carries nothing we need; anything else is unexpected.
          fail('BUILD on an object that has no state');
        }
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (options.persistentLoad === undefined) fail('persistent id without a loader');
        stack.push(options.persistentLoad(pid));
        break;
      }
      default:
        throw new CheckpointError(
          'unsupported',
          file,
          `pickle opcode 0x${op.toString(16)} at ${opPos} is not supported by this reader`,
        );
    }
  }
}
