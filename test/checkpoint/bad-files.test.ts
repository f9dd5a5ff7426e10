import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  openTorchCheckpoint,
  requireTensor,
  stateDictAt,
} from '../../src/engine/checkpoint/index.ts';
import {
  FIXTURES,
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

const GENERATOR = path.join(FIXTURES, 'checkpoint', 'cartoon', 'generator.pt');

function torchZip(
  name: string,
  pickle: Uint8Array,
  storages: Record<string, Uint8Array> = {},
  deflate = false,
): string {
  const file = path.join(dir, name);
  writeZip(file, [
    { name: 'archive/data.pkl', data: pickle },
    ...Object.entries(storages).map(([key, data]) => ({
      name: `archive/data/${key}`,
      data,
      deflate,
    })),
  ]);
  return file;
}

function rawFile(name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** `os.system('ls')` the classic way: GLOBAL + REDUCE. */
const OS_SYSTEM = new PickleWriter()
  .proto(2)
  .global('os', 'system')
  .put(0)
  .str('ls')
  .tupleN(1)
  .reduce()
  .stop()
  .toBytes();
/** `builtins.eval('1')` the protocol-4 way: FRAME, STACK_GLOBAL, MEMOIZE. */
const BUILTINS_EVAL = new PickleWriter()
  .proto(4)
  .raw(0x95, 24, 0, 0, 0, 0, 0, 0, 0)
  .stackGlobal('builtins', 'eval')
  .raw(0x94)
  .shortStr('1')
  .tupleN(1)
  .reduce()
  .stop()
  .toBytes();

describe('damaged or hostile torch checkpoints', () => {
  test('missing file', opts, () => {
    const file = path.join(dir, 'nope.pt');
    assertCheckpointError(() => openTorchCheckpoint(file), 'not-found', file);
  });

  test('zip cut in half (incomplete download)', opts, () => {
    const whole = fs.readFileSync(GENERATOR);
    const file = rawFile('half.pt', whole.subarray(0, whole.length >> 1));
    assertCheckpointError(() => openTorchCheckpoint(file), 'truncated', file);
    const empty = rawFile('empty.pt', new Uint8Array());
    assertCheckpointError(() => openTorchCheckpoint(empty), 'truncated', empty);
  });

  test('a storage that runs past the end of the file', opts, () => {
    const file = torchZip(
      'short-storage.pt',
      stateDictPickle('m', [
        { key: 'w', storage: '0', type: 'FloatStorage', numel: 4, size: [4], stride: [1] },
      ]),
      { '0': float32Bytes([1, 2, 3, 4]) },
    );
    // Grow the entry's recorded size so that its data would end beyond the file.
    const bytes = fs.readFileSync(file);
    const dirAt = bytes.readUInt32LE(bytes.length - 6);
    let p = dirAt;
    for (let i = 0; i < 2; i++) {
      const name = bytes.toString('latin1', p + 46, p + 46 + bytes.readUInt16LE(p + 28));
      if (name === 'archive/data/0') {
        bytes.writeUInt32LE(1 << 20, p + 20);
        bytes.writeUInt32LE(1 << 20, p + 24);
      }
      p += 46 + bytes.readUInt16LE(p + 28) + bytes.readUInt16LE(p + 30);
    }
    fs.writeFileSync(file, bytes);
    assertCheckpointError(() => openTorchCheckpoint(file), 'truncated', file, 'archive/data/0');
  });

  test('wrong magic: random bytes, a PNG, a random pickle-looking file', opts, () => {
    let seed = 42;
    const random = Uint8Array.from(
      { length: 4096 },
      () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff,
    );
    random[0] = 0x17;
    const noise = rawFile('noise.pt', random);
    assertCheckpointError(() => openTorchCheckpoint(noise), 'bad-magic', noise);
    const png = rawFile(
      'photo.pt',
      Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
    );
    assertCheckpointError(() => openTorchCheckpoint(png), 'bad-magic', png);
    random[0] = 0x80;
    const fake = rawFile('fake-pickle.pt', random);
    assertCheckpointError(() => openTorchCheckpoint(fake), 'bad-magic', fake);
    const number = rawFile('number.pt', new PickleWriter().proto(2).int(7).stop().toBytes());
    assertCheckpointError(() => openTorchCheckpoint(number), 'bad-magic', number, 'magic');
  });

  test('os.system via GLOBAL in data.pkl', opts, () => {
    const file = torchZip('os-system.pt', OS_SYSTEM);
    assertCheckpointError(() => openTorchCheckpoint(file), 'forbidden-global', file, 'os.system');
  });

  test('builtins.eval via protocol-4 STACK_GLOBAL in data.pkl', opts, () => {
    const file = torchZip('eval.pt', BUILTINS_EVAL);
    assertCheckpointError(
      () => openTorchCheckpoint(file),
      'forbidden-global',
      file,
      'builtins.eval',
    );
  });

  test('a bare malicious pickle and one hidden inside a state dict', opts, () => {
    const bare = rawFile(
      'posix.pt',
      new PickleWriter().proto(2).global('posix', 'system').stop().toBytes(),
    );
    assertCheckpointError(
      () => openTorchCheckpoint(bare),
      'forbidden-global',
      bare,
      'posix.system',
    );
    // A legitimate-looking state dict whose second value is subprocess.Popen(...).
    const w = new PickleWriter().proto(2).emptyDict().mark().str('m');
    w.global('collections', 'OrderedDict').tupleN(0).reduce().mark().str('x');
    w.global('subprocess', 'Popen').str('sh').tupleN(1).reduce().setitems().setitems().stop();
    const nested = torchZip('popen.pt', w.toBytes());
    assertCheckpointError(
      () => openTorchCheckpoint(nested),
      'forbidden-global',
      nested,
      'subprocess.Popen',
    );
  });

  test('calling an allowed but non-callable global', opts, () => {
    const file = torchZip(
      'call-storage.pt',
      new PickleWriter()
        .proto(2)
        .global('torch', 'FloatStorage')
        .tupleN(0)
        .reduce()
        .stop()
        .toBytes(),
    );
    assertCheckpointError(
      () => openTorchCheckpoint(file),
      'bad-format',
      file,
      'torch.FloatStorage',
    );
  });

  test('huge declared shapes', opts, () => {
    const huge = torchZip(
      'huge.pt',
      stateDictPickle('m', [
        {
          key: 'w',
          storage: '0',
          type: 'FloatStorage',
          numel: 4,
          size: [1e9, 1e9],
          stride: [1e9, 1],
        },
      ]),
      { '0': float32Bytes([1, 2, 3, 4]) },
    );
    assertCheckpointError(() => openTorchCheckpoint(huge), 'bad-shape', huge);
    const absurd = torchZip(
      'absurd.pt',
      stateDictPickle('m', [
        {
          key: 'w',
          storage: '0',
          type: 'FloatStorage',
          numel: 4,
          size: [2 ** 40, 2 ** 40],
          stride: [1, 1],
        },
      ]),
      { '0': float32Bytes([1, 2, 3, 4]) },
    );
    assertCheckpointError(() => openTorchCheckpoint(absurd), 'bad-shape', absurd);
    // The storage itself claims more elements than its zip entry holds.
    const lying = torchZip(
      'lying-storage.pt',
      stateDictPickle('m', [
        { key: 'w', storage: '0', type: 'FloatStorage', numel: 1e9, size: [4], stride: [1] },
      ]),
      { '0': float32Bytes([1, 2, 3, 4]) },
    );
    assertCheckpointError(() => openTorchCheckpoint(lying), 'bad-shape', lying, 'storage 0');
  });

  test('compressed tensor data is refused, not inflated', opts, () => {
    const file = torchZip(
      'deflated-storage.pt',
      stateDictPickle('m', [
        { key: 'w', storage: '0', type: 'FloatStorage', numel: 4, size: [4], stride: [1] },
      ]),
      { '0': float32Bytes([1, 2, 3, 4]) },
      true,
    );
    assertCheckpointError(() => openTorchCheckpoint(file), 'unsupported', file, 'compressed');
  });

  test('a real but unsupported storage type (bfloat16)', opts, () => {
    const w = new PickleWriter().proto(2).mark().str('storage').global('torch', 'BFloat16Storage');
    w.str('0').str('cpu').int(2).tuple().persid().stop();
    const file = torchZip('bf16.pt', w.toBytes(), { '0': new Uint8Array(4) });
    assertCheckpointError(() => openTorchCheckpoint(file), 'unsupported', file, 'BFloat16Storage');
  });

  test('zip without data.pkl (e.g. TorchScript)', opts, () => {
    const file = path.join(dir, 'script.pt');
    writeZip(file, [
      { name: 'archive/constants.pkl', data: new PickleWriter().proto(2).none().stop().toBytes() },
    ]);
    assertCheckpointError(() => openTorchCheckpoint(file), 'bad-format', file, 'data.pkl');
  });

  test('missing key via requireTensor names the key and file', opts, () => {
    const file = torchZip(
      'small.pt',
      stateDictPickle('m', [
        { key: 'w', storage: '0', type: 'FloatStorage', numel: 4, size: [4], stride: [1] },
      ]),
      { '0': float32Bytes([1, 2, 3, 4]) },
    );
    const ck = openTorchCheckpoint(file);
    try {
      const sd = stateDictAt(ck, ['m']);
      assert.deepEqual([...requireTensor(sd, 'w', file, 1).float32()], [1, 2, 3, 4]);
      assertCheckpointError(
        () => requireTensor(sd, 'style.1.weight', file),
        'missing-key',
        file,
        'style.1.weight',
      );
      assertCheckpointError(() => stateDictAt(ck, ['g_ema']), 'missing-key', file, 'g_ema');
    } finally {
      ck.close();
    }
  });
});
