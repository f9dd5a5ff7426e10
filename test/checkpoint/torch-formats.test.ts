import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  openTorchCheckpoint,
  requireTensor,
  stateDictAt,
} from '../../src/engine/checkpoint/index.ts';
import type { TensorSpec } from './helpers.ts';
import {
  PickleWriter,
  assertCheckpointError,
  float32Bytes,
  stateDictPickle,
  tempDir,
  writeZip,
} from './helpers.ts';

const opts = { timeout: 10000 };
const { dir, cleanup } = tempDir();
after(cleanup);

// Storage 0: six floats viewed four ways; 1: fp16; 2: an int64 counter; 3: float64.
const TENSORS: readonly TensorSpec[] = [
  { key: 'w', storage: '0', type: 'FloatStorage', numel: 6, size: [2, 3], stride: [3, 1] },
  { key: 'wt', storage: '0', type: 'FloatStorage', numel: 6, size: [3, 2], stride: [1, 3] },
  { key: 'tail', storage: '0', type: 'FloatStorage', numel: 6, offset: 4, size: [2], stride: [1] },
  { key: 'rows', storage: '0', type: 'FloatStorage', numel: 6, size: [2, 3], stride: [0, 1] },
  { key: 'h', storage: '1', type: 'HalfStorage', numel: 4, size: [4], stride: [1] },
  { key: 'n', storage: '2', type: 'LongStorage', numel: 1, size: [], stride: [] },
  { key: 'd', storage: '3', type: 'DoubleStorage', numel: 2, size: [2], stride: [1] },
];

const STORAGES: ReadonlyMap<string, Uint8Array> = new Map([
  ['0', float32Bytes([1, 2, 3, 4, 5, 6])],
  // 1.5, -2, 2^-24 (smallest subnormal), +inf
  ['1', Uint8Array.from([0x00, 0x3e, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x7c])],
  ['2', new Uint8Array(new BigInt64Array([12345n]).buffer)],
  ['3', new Uint8Array(new Float64Array([0.1, -3.25]).buffer)],
]);

const EXPECTED: Record<string, number[]> = {
  w: [1, 2, 3, 4, 5, 6],
  wt: [1, 4, 2, 5, 3, 6],
  tail: [5, 6],
  rows: [1, 2, 3, 1, 2, 3],
  h: [1.5, -2, 2 ** -24, Infinity],
  n: [12345],
  d: [Math.fround(0.1), -3.25],
};

/** The legacy (pre-1.6, non-zip) torch.save layout, written by hand. */
function writeLegacy(
  file: string,
  main: Uint8Array,
  storages: ReadonlyMap<string, Uint8Array>,
): void {
  const elementSize: Record<string, number> = { '0': 4, '1': 2, '2': 8, '3': 8 };
  const magic = new PickleWriter().proto(2).long(0x1950a86a20f9469cfc6cn).stop().toBytes();
  const version = new PickleWriter().proto(2).int(1001).stop().toBytes();
  const sysInfo = new PickleWriter().proto(2).emptyDict().mark();
  sysInfo.str('protocol_version').int(1001).str('little_endian').bool(true);
  sysInfo
    .str('type_sizes')
    .emptyDict()
    .mark()
    .str('short')
    .int(2)
    .str('int')
    .int(4)
    .str('long')
    .int(4);
  sysInfo.setitems().setitems().stop();
  const keys = new PickleWriter().proto(2).emptyList().mark();
  for (const key of storages.keys()) keys.str(key);
  keys.appends().stop();
  const parts: Uint8Array[] = [magic, version, sysInfo.toBytes(), main, keys.toBytes()];
  for (const [key, bytes] of storages) {
    parts.push(
      new Uint8Array(new BigInt64Array([BigInt(bytes.length / (elementSize[key] ?? 1))]).buffer),
      bytes,
    );
  }
  fs.writeFileSync(file, Buffer.concat(parts));
}

function assertAllValues(file: string): void {
  const ck = openTorchCheckpoint(file);
  try {
    const sd = stateDictAt(ck, ['model']);
    assert.deepEqual(
      [...sd.keys()],
      TENSORS.map((t) => t.key),
    );
    for (const [key, expected] of Object.entries(EXPECTED)) {
      assert.deepEqual([...requireTensor(sd, key, file).float32()], expected, key);
    }
    assert.deepEqual(requireTensor(sd, 'wt', file).shape, [3, 2]);
    assert.equal(requireTensor(sd, 'h', file).dtype, 'float16');
    assert.equal(requireTensor(sd, 'n', file).dtype, 'int64');
  } finally {
    ck.close();
  }
}

function zipEntries(prefix: string, pickle: Uint8Array, deflatePickle = false) {
  return [
    { name: `${prefix}/data.pkl`, data: pickle, deflate: deflatePickle },
    ...[...STORAGES].map(([key, data]) => ({ name: `${prefix}/data/${key}`, data })),
    { name: `${prefix}/version`, data: new TextEncoder().encode('3\n') },
  ];
}

describe('torch.save formats', () => {
  test('legacy (non-zip) format: values, views, strides and dtypes', opts, () => {
    const file = path.join(dir, 'legacy.pt');
    writeLegacy(file, stateDictPickle('model', TENSORS, true), STORAGES);
    const ck = openTorchCheckpoint(file);
    assert.equal(ck.format, 'legacy');
    ck.close();
    assertAllValues(file);
  });

  test('legacy format: big pickles, truncation and hostile globals', opts, () => {
    // A 3 MB pickle makes the reader widen its window beyond the first megabyte.
    const big = path.join(dir, 'legacy-big.pt');
    writeLegacy(big, stateDictPickle('model', TENSORS, true, 3 << 20), STORAGES);
    assertAllValues(big);

    const whole = fs.readFileSync(big);
    const cutData = path.join(dir, 'legacy-cut-data.pt');
    fs.writeFileSync(cutData, whole.subarray(0, whole.length - 3));
    assertCheckpointError(() => openTorchCheckpoint(cutData), 'truncated', cutData, 'storage 3');
    const cutPickle = path.join(dir, 'legacy-cut-pickle.pt');
    fs.writeFileSync(cutPickle, whole.subarray(0, 2 << 20));
    assertCheckpointError(() => openTorchCheckpoint(cutPickle), 'truncated', cutPickle);

    const hostile = new PickleWriter().proto(2).emptyDict().str('x');
    hostile.global('subprocess', 'Popen').str('sh').tupleN(1).reduce().raw(0x73).stop();
    const evil = path.join(dir, 'legacy-evil.pt');
    writeLegacy(evil, hostile.toBytes(), new Map());
    assertCheckpointError(
      () => openTorchCheckpoint(evil),
      'forbidden-global',
      evil,
      'subprocess.Popen',
    );
  });

  test('zip format with any top folder name', opts, () => {
    const file = path.join(dir, 'zip.pt');
    writeZip(file, zipEntries('my_model', stateDictPickle('model', TENSORS)));
    assertAllValues(file);
  });

  test('zip with ZIP64 end records and extra fields', opts, () => {
    const file = path.join(dir, 'zip64.pt');
    writeZip(file, zipEntries('archive', stateDictPickle('model', TENSORS)), true);
    assertAllValues(file);
  });

  test('zip with a deflated data.pkl', opts, () => {
    const file = path.join(dir, 'deflated.pt');
    writeZip(file, zipEntries('archive', stateDictPickle('model', TENSORS), true));
    assertAllValues(file);
  });

  test('protocol 4 pickle (FRAME, STACK_GLOBAL, MEMOIZE) is read too', opts, () => {
    const file = path.join(dir, 'proto4.pt');
    const m = 0x94; // MEMOIZE
    const w = new PickleWriter().proto(4).raw(0x95, 0, 0, 0, 0, 0, 0, 0, 0);
    w.emptyDict().raw(m).shortStr('model').raw(m);
    w.stackGlobal('collections', 'OrderedDict').raw(m).tupleN(0).reduce().raw(m);
    w.shortStr('w').raw(m).stackGlobal('torch._utils', '_rebuild_tensor_v2').raw(m).mark();
    w.mark()
      .shortStr('storage')
      .stackGlobal('torch', 'FloatStorage')
      .shortStr('0')
      .shortStr('cpu')
      .int(6);
    w.tuple().persid().int(0).int(2).int(3).tupleN(2).int(3).int(1).tupleN(2).bool(false);
    w.get(2).tupleN(0).reduce().tuple().reduce();
    w.raw(0x73, 0x73).stop(); // SETITEM into the OrderedDict, then into the root dict
    const p4 = w.toBytes();
    writeZip(file, [
      { name: 'archive/data.pkl', data: p4 },
      { name: 'archive/data/0', data: STORAGES.get('0') ?? new Uint8Array() },
    ]);
    const ck = openTorchCheckpoint(file);
    try {
      assert.deepEqual(
        [...requireTensor(stateDictAt(ck, ['model']), 'w', file).float32()],
        EXPECTED.w,
      );
    } finally {
      ck.close();
    }
  });
});
