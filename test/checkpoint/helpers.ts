import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { CheckpointError } from '../../src/engine/checkpoint/index.ts';
import type { CheckpointErrorCode } from '../../src/engine/checkpoint/index.ts';

export const FIXTURES = fileURLToPath(new URL('../fixtures/reference-tiny64', import.meta.url));

/** A fresh temp dir for crafted files, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pastiche-ckpt-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Asserts `fn` throws a CheckpointError with `code` whose message names `file` (and `mentions`). */
export function assertCheckpointError(
  fn: () => unknown,
  code: CheckpointErrorCode,
  file: string,
  ...mentions: string[]
): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CheckpointError, `expected CheckpointError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.file, file);
    assert.ok(err.message.includes(file), err.message);
    for (const m of mentions) assert.ok(err.message.includes(m), `"${err.message}" lacks "${m}"`);
    return true;
  });
}

export function sum(values: Float32Array): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

export function assertClose(
  actual: ArrayLike<number>,
  expected: readonly number[],
  tol = 1e-6,
): void {
  assert.ok(actual.length >= expected.length, `only ${actual.length} values`);
  expected.forEach((e, i) => {
    const a = actual[i] ?? NaN;
    assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `[${i}] ${a} != ${e}`);
  });
}

const enc = new TextEncoder();

/** Emits pickle opcodes byte by byte, so tests can craft exactly the file they need. */
export class PickleWriter {
  private readonly parts: number[] = [];

  raw(...bytes: number[]): this {
    return this.append(bytes);
  }
  /** Appends without spreading, so multi-megabyte strings do not overflow the call stack. */
  append(bytes: ArrayLike<number>): this {
    for (let i = 0; i < bytes.length; i++) this.parts.push(bytes[i] ?? 0);
    return this;
  }
  private u32(n: number): number[] {
    return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
  }
  proto(version: number): this {
    return this.raw(0x80, version);
  }
  mark(): this {
    return this.raw(0x28);
  }
  str(s: string): this {
    const b = enc.encode(s);
    return this.raw(0x58, ...this.u32(b.length)).append(b);
  }
  shortStr(s: string): this {
    const b = enc.encode(s);
    return this.raw(0x8c, b.length).append(b);
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw(0x4b, n);
    if (n >= -(2 ** 31) && n < 2 ** 31) return this.raw(0x4a, ...this.u32(n));
    return this.long(BigInt(n));
  }
  long(v: bigint): this {
    const bytes: number[] = [];
    let x = v;
    for (;;) {
      const b = Number(x & 0xffn);
      bytes.push(b);
      x >>= 8n;
      if ((x === 0n && b < 0x80) || (x === -1n && b >= 0x80)) break;
    }
    return this.raw(0x8a, bytes.length, ...bytes);
  }
  float(x: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, false);
    return this.raw(0x47, ...b);
  }
  bytes(b: Uint8Array): this {
    return this.raw(0x42, ...this.u32(b.length)).append(b);
  }
  none(): this {
    return this.raw(0x4e);
  }
  bool(v: boolean): this {
    return this.raw(v ? 0x88 : 0x89);
  }
  global(module: string, name: string): this {
    return this.raw(0x63, ...enc.encode(`${module}\n${name}\n`));
  }
  stackGlobal(module: string, name: string): this {
    return this.shortStr(module).shortStr(name).raw(0x93);
  }
  tuple(): this {
    return this.raw(0x74);
  }
  tupleN(n: 0 | 1 | 2 | 3): this {
    return this.raw([0x29, 0x85, 0x86, 0x87][n] ?? 0);
  }
  emptyDict(): this {
    return this.raw(0x7d);
  }
  emptyList(): this {
    return this.raw(0x5d);
  }
  setitems(): this {
    return this.raw(0x75);
  }
  appends(): this {
    return this.raw(0x65);
  }
  reduce(): this {
    return this.raw(0x52);
  }
  build(): this {
    return this.raw(0x62);
  }
  persid(): this {
    return this.raw(0x51);
  }
  put(i: number): this {
    return this.raw(0x71, i);
  }
  get(i: number): this {
    return this.raw(0x68, i);
  }
  stop(): this {
    return this.raw(0x2e);
  }
  toBytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export interface TensorSpec {
  readonly key: string;
  readonly storage: string;
  readonly type: 'FloatStorage' | 'HalfStorage' | 'LongStorage' | 'DoubleStorage';
  /** Elements in the whole storage. */
  readonly numel: number;
  readonly offset?: number;
  readonly size: readonly number[];
  readonly stride: readonly number[];
}

/** Writes one value into a pickle being built, e.g. a root dict's entry. */
export type PickleValue = (w: PickleWriter) => void;

/**
 * A tensor the way torch.save pickles it: REDUCE of `_rebuild_tensor_v2` over a BINPERSID
 * storage. Legacy ids carry a sixth, None, element.
 */
export function pickleTensor(w: PickleWriter, t: TensorSpec, legacy = false): void {
  w.global('torch._utils', '_rebuild_tensor_v2').mark();
  w.mark().str('storage').global('torch', t.type).str(t.storage).str('cpu').int(t.numel);
  if (legacy) w.none();
  w.tuple()
    .persid()
    .int(t.offset ?? 0);
  w.mark();
  for (const d of t.size) w.int(d);
  w.tuple().mark();
  for (const s of t.stride) w.int(s);
  w.tuple().bool(false).global('collections', 'OrderedDict').tupleN(0).reduce().tuple().reduce();
}

/** `OrderedDict(key → tensor)`, i.e. a module's `state_dict()`. */
export const stateDictValue =
  (tensors: Iterable<TensorSpec>, legacy = false): PickleValue =>
  (w) => {
    w.global('collections', 'OrderedDict').tupleN(0).reduce().mark();
    for (const t of tensors) {
      w.str(t.key);
      pickleTensor(w, t, legacy);
    }
    w.setitems();
  };

export const tensorValue =
  (t: TensorSpec): PickleValue =>
  (w) =>
    pickleTensor(w, t);

export type PyScalar = string | number | boolean | null;

/** A plain dict of Python scalars, like pSp's `opts` (`vars(argparse.Namespace)`). */
export const scalarDictValue =
  (entries: Readonly<Record<string, PyScalar>>): PickleValue =>
  (w) => {
    w.emptyDict().mark();
    for (const [key, v] of Object.entries(entries)) {
      w.str(key);
      if (v === null) w.none();
      else if (typeof v === 'string') w.str(v);
      else if (typeof v === 'boolean') w.bool(v);
      // JS has one number type; integral values become Python ints, the rest floats.
      else if (Number.isInteger(v)) w.int(v);
      else w.float(v);
    }
    w.setitems();
  };

/** torch.save's pickle of a root dict holding `entries` in order. */
export function rootDictPickle(entries: Readonly<Record<string, PickleValue>>): Uint8Array {
  const w = new PickleWriter().proto(2).emptyDict().mark();
  for (const [key, value] of Object.entries(entries)) {
    w.str(key);
    value(w);
  }
  return w.setitems().stop().toBytes();
}

/**
 * Pickles `{wrapKey: OrderedDict(key → tensor)}` the way torch.save does; `padding` adds a
 * string of that length to the root dict.
 */
export function stateDictPickle(
  wrapKey: string,
  tensors: readonly TensorSpec[],
  legacy = false,
  padding = 0,
): Uint8Array {
  return rootDictPickle({
    [wrapKey]: stateDictValue(tensors, legacy),
    // An extra root entry that makes the pickle as large as a test needs.
    ...(padding > 0 && { padding: (w: PickleWriter) => w.str('p'.repeat(padding)) }),
  });
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function tableCrc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// zlib.crc32 (Node ≥ 20.15) is native and ~100× faster, which matters for gigabyte benchmark
// files; the table loop keeps older Node 20 releases working.
const crc32: (bytes: Uint8Array) => number = zlib.crc32 ?? tableCrc32;

export interface ZipFileEntry {
  readonly name: string;
  /** Bytes, or a size whose (zero) content is left as a hole in a sparse file. */
  readonly data: Uint8Array | { readonly sparse: number };
  readonly deflate?: boolean;
}

/**
 * Writes a zip the way torch does (stored entries, local extra field padding data to 64 bytes),
 * optionally forcing ZIP64 records so that path is exercised on a small file. Entries are
 * consumed one at a time, so a generator can produce gigabytes without holding them all.
 */
export function writeZip(file: string, entries: Iterable<ZipFileEntry>, zip64 = false): void {
  const fd = fs.openSync(file, 'w');
  const central: Buffer[] = [];
  let pos = 0;
  let count = 0;
  const write = (b: Uint8Array): void => {
    fs.writeSync(fd, b, 0, b.length, pos);
    pos += b.length;
  };
  for (const e of entries) {
    count++;
    const name = Buffer.from(e.name);
    const payload =
      e.data instanceof Uint8Array ? (e.deflate ? zlib.deflateRawSync(e.data) : e.data) : null;
    const size = e.data instanceof Uint8Array ? e.data.length : e.data.sparse;
    const csize = payload?.length ?? size;
    const headerAt = pos;
    const pad = (64 - ((pos + 30 + name.length + 4) % 64)) % 64;
    // Sparse entries skip the CRC: our reader never checks it and zeroes would cost 200 MB.
    const crc = e.data instanceof Uint8Array ? crc32(e.data) : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(e.deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(csize, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(4 + pad, 28);
    const extra = Buffer.alloc(4 + pad);
    extra.writeUInt16LE(0x4246, 0); // torch's "FB" padding record
    extra.writeUInt16LE(pad, 2);
    write(Buffer.concat([local, name, extra]));
    if (payload) write(payload);
    else pos += size;
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(e.deflate ? 8 : 0, 10);
    cd.writeUInt32LE(crc, 16);
    const z64 = Buffer.alloc(zip64 ? 28 : 0);
    if (zip64) {
      cd.writeUInt32LE(0xffffffff, 20);
      cd.writeUInt32LE(0xffffffff, 24);
      cd.writeUInt32LE(0xffffffff, 42);
      z64.writeUInt16LE(1, 0);
      z64.writeUInt16LE(24, 2);
      z64.writeBigUInt64LE(BigInt(size), 4);
      z64.writeBigUInt64LE(BigInt(csize), 12);
      z64.writeBigUInt64LE(BigInt(headerAt), 20);
    } else {
      cd.writeUInt32LE(csize, 20);
      cd.writeUInt32LE(size, 24);
      cd.writeUInt32LE(headerAt, 42);
    }
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt16LE(z64.length, 30);
    central.push(Buffer.concat([cd, name, z64]));
  }
  const dirAt = pos;
  const dir = Buffer.concat(central);
  write(dir);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  if (zip64) {
    const record = Buffer.alloc(56);
    const recordAt = pos;
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeBigUInt64LE(BigInt(count), 24);
    record.writeBigUInt64LE(BigInt(count), 32);
    record.writeBigUInt64LE(BigInt(dir.length), 40);
    record.writeBigUInt64LE(BigInt(dirAt), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(recordAt), 8);
    locator.writeUInt32LE(1, 16);
    write(Buffer.concat([record, locator]));
    eocd.writeUInt16LE(0xffff, 8);
    eocd.writeUInt16LE(0xffff, 10);
    eocd.writeUInt32LE(0xffffffff, 12);
    eocd.writeUInt32LE(0xffffffff, 16);
  } else {
    eocd.writeUInt16LE(count, 8);
    eocd.writeUInt16LE(count, 10);
    eocd.writeUInt32LE(dir.length, 12);
    eocd.writeUInt32LE(dirAt, 16);
  }
  write(eocd);
  fs.closeSync(fd);
}

export function float32Bytes(values: readonly number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** Writes a `.npy` with the given header dict text, format version and raw data. */
export function writeNpy(
  file: string,
  header: string,
  data: Uint8Array,
  version: 1 | 2 | 3 = 1,
): void {
  const prefix = version === 1 ? 10 : 12;
  let text = header;
  while ((prefix + text.length + 1) % 64 !== 0) text += ' ';
  text += '\n';
  const head = Buffer.alloc(prefix);
  Buffer.from([0x93, ...enc.encode('NUMPY'), version, 0]).copy(head);
  if (version === 1) head.writeUInt16LE(text.length, 8);
  else head.writeUInt32LE(text.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(text, 'latin1'), data]));
}

/**
 * What `np.save(path, obj)` writes for a Python object: a 0-d object array pickled as
 * `_reconstruct(ndarray, (0,), b'b')` + BUILD `(1, (), dtype('O8'), False, [obj])`.
 * `item` emits the pickled object; `module` picks numpy 1.x or 2.x naming.
 */
export function objectNpy(
  file: string,
  item: (w: PickleWriter) => void,
  module = 'numpy.core.multiarray',
): void {
  const w = new PickleWriter()
    .proto(3)
    .global(module, '_reconstruct')
    .put(0)
    .global('numpy', 'ndarray')
    .put(1);
  w.int(0).tupleN(1).raw(0x43, 1, 0x62).tupleN(3).reduce().mark().int(1).tupleN(0);
  w.global('numpy', 'dtype').put(2).str('O8').bool(false).bool(true).tupleN(3).reduce();
  w.mark().int(3).str('|').none().none().none().int(-1).int(-1).int(63).tuple().build();
  w.bool(false).emptyList();
  item(w);
  w.raw(0x61 /* APPEND */).tuple().build().stop();
  writeNpy(file, "{'descr': '|O', 'fortran_order': False, 'shape': (), }", w.toBytes());
}

/**
 * A pickled ndarray of `shape` holding `values` (float32 by default), as it appears inside
 * such a dict: it refers to the memo entries (`_reconstruct`, `ndarray`, `dtype`) that
 * {@link objectNpy} sets up.
 */
export function pickledArray(
  w: PickleWriter,
  shape: readonly number[],
  values: Uint8Array,
  code = 'f4',
  order = '<',
): void {
  w.get(0).get(1).int(0).tupleN(1).raw(0x43, 1, 0x62).tupleN(3).reduce();
  w.mark().int(1).mark();
  for (const d of shape) w.int(d);
  w.tuple().get(2).str(code).bool(false).bool(true).tupleN(3).reduce();
  w.mark().int(3).str(order).none().none().none().int(-1).int(-1).int(0).tuple().build();
  w.bool(false).bytes(values).tuple().build();
}
