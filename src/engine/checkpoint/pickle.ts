import { CheckpointError } from './errors.ts';
import { PickleCursor } from './pickle-cursor.ts';
import { PyGlobal, PyObject, isList, isTuple, tuple } from './pickle-values.ts';
import type { GlobalImpl, PyDict, PyValue } from './pickle-values.ts';

export * from './pickle-values.ts';

export interface UnpickleOptions {
  /** Named in every error. */
  readonly file: string;
  /** Allowed globals by qualified name (`module.name`); any other one is refused. */
  readonly globals: ReadonlyMap<string, GlobalImpl>;
  /** Resolves BINPERSID ids; without it a persistent id is a format error. */
  readonly persistentLoad?: (pid: PyValue) => PyValue;
  /** Overrides of {@link PICKLE_BUDGET}, for tests and for callers that need less. */
  readonly budget?: Partial<PickleBudget>;
}

/** What one pickle may cost; exceeding any bound is a CheckpointError, never an abort. */
export interface PickleBudget {
  /** Opcodes interpreted. */
  readonly ops: number;
  /** Containers and objects created (dicts, lists, tuples, calls). */
  readonly objects: number;
  /** Items in one dict, list or tuple. */
  readonly containerItems: number;
  /** Values on the stack, all MARK frames together. */
  readonly stack: number;
  /** MARK frames open at once. */
  readonly marks: number;
  /** Containers inside containers (a value built from its items is one deeper than they are). */
  readonly nesting: number;
  /** Memo entries. */
  readonly memo: number;
}

/**
 * Sized from the real files: the released encoder.pt (~1.2 GB) has 793 tensors (generator.pt
 * 254, sampler.pt 27; see test/fixtures/official-state-dict-keys.txt) and a data.pkl of
 * ~200 KB, i.e. ~200 k opcodes at most (every opcode is at least one byte), ~10 k
 * objects (each tensor is a REDUCE over a few tuples and an OrderedDict), a stack of ~2 000
 * (pickle batches SETITEMS by 1 000 pairs), 6 MARKs and containers ~6 deep, and a memo of a
 * few thousand entries. The exstyle tables (up to 12 MB) are mostly raw bytes and need far less.
 * Each bound below leaves 10–100× headroom over that and caps the worst case well under a
 * gigabyte of heap, so a crafted pickle of tiny, fast opcodes (EMPTY_DICT, DUP…) ends in a
 * typed error within a second instead of exhausting the heap.
 */
export const PICKLE_BUDGET: PickleBudget = Object.freeze({
  ops: 4_000_000,
  objects: 1_000_000,
  containerItems: 200_000,
  stack: 200_000,
  marks: 1_000,
  nesting: 100,
  memo: 1_000_000,
});

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
  const budget: PickleBudget = { ...PICKLE_BUDGET, ...options.budget };
  const at = new PickleCursor(data, file, start);
  let stack: PyValue[] = [];
  const metastack: PyValue[][] = [];
  const memo = new Map<number, PyValue>();
  // Values on the stack across all frames, opcodes run, objects made.
  let held = 0;
  let ops = 0;
  let objects = 0;
  // Nesting depth of the containers made here (tensors and other natives count as depth 1).
  const depths = new WeakMap<object, number>();

  function fail(detail: string): never {
    return at.fail(detail);
  }
  function over(what: string, limit: number): never {
    return fail(`pickle exceeds its budget of ${limit} ${what}; no checkpoint needs that many`);
  }
  function depthOf(v: PyValue): number {
    return typeof v === 'object' && v !== null ? (depths.get(v) ?? 1) : 0;
  }
  /** Registers a new container holding `items`, enforcing the object, size and nesting bounds. */
  function made<T extends PyValue>(value: T, items: readonly PyValue[]): T {
    if (++objects > budget.objects) over('objects', budget.objects);
    if (items.length > budget.containerItems) over('items in one container', budget.containerItems);
    let inner = 0;
    for (const item of items) inner = Math.max(inner, depthOf(item));
    if (inner + 1 > budget.nesting) over('levels of nesting', budget.nesting);
    // Depth 1 is what depthOf() assumes for an unrecorded object: not recording it keeps the
    // WeakMap (slow for the garbage collector) to containers that hold containers.
    if (inner > 0 && typeof value === 'object' && value !== null) depths.set(value, inner + 1);
    return value;
  }
  /** Items were added to `target` in place: its size and depth grow. */
  function grew(target: object, size: number, items: readonly PyValue[]): void {
    if (size > budget.containerItems) over('items in one container', budget.containerItems);
    let inner = (depths.get(target) ?? 1) - 1;
    for (const item of items) inner = Math.max(inner, depthOf(item));
    if (inner + 1 > budget.nesting) over('levels of nesting', budget.nesting);
    depths.set(target, inner + 1);
  }
  // Always push through this: in `stack.push(f())` the receiver is fixed before `f` runs, and
  // `f` may be popMark(), which swaps `stack` for the outer one.
  function push(value: PyValue): void {
    if (++held > budget.stack) over('stack entries', budget.stack);
    stack.push(value);
  }
  function pop(): PyValue {
    const v = stack.pop();
    if (v === undefined) fail('stack underflow');
    held--;
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
    held -= items.length;
    return items;
  }
  function put(index: number): void {
    if (!memo.has(index) && memo.size >= budget.memo) over('memo entries', budget.memo);
    memo.set(index, top());
  }
  function get(index: number): void {
    const v = memo.get(index);
    if (v === undefined) fail(`memo key ${index} was never stored`);
    push(v);
  }
  function resolve(module: string, name: string): PyGlobal {
    if (!globals.has(`${module}.${name}`)) {
      const allowed = [...globals.keys()].join(', ');
      throw new CheckpointError(
        'forbidden-global',
        file,
        `pickle references forbidden global ${module}.${name} (refused, never executed); ` +
          (allowed ? `allowed here: ${allowed}` : 'no globals are allowed here'),
      );
    }
    return new PyGlobal(module, name);
  }
  function call(callable: PyValue, args: PyValue): PyValue {
    if (!(callable instanceof PyGlobal)) fail('call of a non-global');
    if (!isTuple(args)) fail(`arguments of ${callable.qualifiedName} are not a tuple`);
    const impl = globals.get(callable.qualifiedName);
    if (impl?.call === undefined) fail(`${callable.qualifiedName} cannot be called`);
    return made(impl.call(args, file), args);
  }
  function setItems(target: PyValue, items: PyValue[]): void {
    if (!(target instanceof Map)) fail('SETITEM on a non-dict');
    if (items.length % 2 !== 0) fail('odd number of SETITEMS operands');
    grew(target, target.size + items.length / 2, items);
    for (let i = 0; i < items.length; i += 2) target.set(items[i] ?? null, items[i + 1] ?? null);
  }
  function appendItems(target: PyValue, items: PyValue[]): void {
    if (!isList(target)) fail('APPEND on a non-list');
    grew(target, target.length + items.length, items);
    for (const item of items) target.push(item);
  }
  for (;;) {
    if (++ops > budget.ops) over('operations', budget.ops);
    switch (at.next()) {
      case 0x80: // PROTO
        if (at.u8() > 5) throw new CheckpointError('unsupported', file, 'pickle protocol above 5');
        break;
      case 0x95: // FRAME: an I/O hint only
        at.u64();
        break;
      case 0x2e: // STOP
        return { value: pop(), end: at.pos };
      case 0x28: // MARK
        if (metastack.length >= budget.marks) over('nested MARKs', budget.marks);
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
        push(top());
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT
        push(at.i32());
        break;
      case 0x4b: // BININT1
        push(at.u8());
        break;
      case 0x4d: // BININT2
        push(at.u16());
        break;
      case 0x8a: // LONG1
        push(at.long(at.u8()));
        break;
      case 0x8b: // LONG4
        push(at.long(at.u32()));
        break;
      case 0x47: // BINFLOAT (big-endian, unlike everything else)
        push(at.f64be());
        break;
      case 0x58: // BINUNICODE
        push(at.text(at.u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(at.text(at.u8()));
        break;
      case 0x8d: // BINUNICODE8
        push(at.text(at.u64()));
        break;
      case 0x54: // BINSTRING (Python 2 str; torch decodes it as UTF-8)
        push(at.text(at.u32()));
        break;
      case 0x55: // SHORT_BINSTRING
        push(at.text(at.u8()));
        break;
      case 0x43: // SHORT_BINBYTES
        push(at.bytes(at.u8()));
        break;
      case 0x42: // BINBYTES
        push(at.bytes(at.u32()));
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        push(at.bytes(at.u64()));
        break;
      case 0x7d: // EMPTY_DICT
        push(made(new Map(), []));
        break;
      case 0x5d: // EMPTY_LIST
        push(made([], []));
        break;
      case 0x29: // EMPTY_TUPLE
        push(made(tuple([]), []));
        break;
      case 0x74: {
        // TUPLE
        const items = popMark();
        push(made(tuple(items), items));
        break;
      }
      case 0x85: {
        // TUPLE1
        const items = [pop()];
        push(made(tuple(items), items));
        break;
      }
      case 0x86: {
        // TUPLE2
        const b = pop();
        const items = [pop(), b];
        push(made(tuple(items), items));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const items = [pop(), b, c];
        push(made(tuple(items), items));
        break;
      }
      case 0x6c: {
        // LIST
        const items = popMark();
        push(made(items, items));
        break;
      }
      case 0x64: {
        // DICT
        const dict: PyDict = made(new Map(), []);
        setItems(dict, popMark());
        push(dict);
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
        put(at.u8());
        break;
      case 0x72: // LONG_BINPUT
        put(at.u32());
        break;
      case 0x94: // MEMOIZE
        put(memo.size);
        break;
      case 0x68: // BINGET
        get(at.u8());
        break;
      case 0x6a: // LONG_BINGET
        get(at.u32());
        break;
      case 0x63: {
        // GLOBAL
        const module = at.line();
        push(resolve(module, at.line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') {
          fail('STACK_GLOBAL operands are not strings');
        }
        push(resolve(module, name));
        break;
      }
      case 0x69: {
        // INST: protocol 0 class instantiation, allowed only through the same whitelist
        const module = at.line();
        const cls = resolve(module, at.line());
        push(call(cls, tuple(popMark())));
        break;
      }
      case 0x6f: {
        // OBJ
        const [cls = null, ...args] = popMark();
        push(call(cls, tuple(args)));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        push(call(pop(), args));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args) — for our allowed classes, the same as calling them
        const args = pop();
        push(call(pop(), args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        if (!(kwargs instanceof Map) || kwargs.size > 0) {
          fail('keyword arguments are not supported');
        }
        push(call(pop(), args));
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
        push(options.persistentLoad(pid));
        break;
      }
      default:
        throw new CheckpointError(
          'unsupported',
          file,
          `${at.where()} is not supported by this reader`,
        );
    }
  }
}
