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
  readonly maxMemo?: number;
  readonly maxDepth?: number;
}

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
  const at = new PickleCursor(data, file, start);
  let stack: PyValue[] = [];
  const metastack: PyValue[][] = [];
  const memo = new Map<number, PyValue>();

  function fail(detail: string): never {
    return at.fail(detail);
  }
  // Always push through this: in `stack.push(f())` the receiver is fixed before `f` runs, and
  // `f` may be popMark(), which swaps `stack` for the outer one.
  function push(value: PyValue): void {
    stack.push(value);
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
  for (;;) {
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
        push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        push(tuple([]));
        break;
      case 0x74: // TUPLE
        push(tuple(popMark()));
        break;
      case 0x85: // TUPLE1
        push(tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        push(tuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        push(tuple([pop(), b, c]));
        break;
      }
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x64: {
        // DICT
        const dict: PyDict = new Map();
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
