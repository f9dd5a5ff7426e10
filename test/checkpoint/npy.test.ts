import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { readNpy } from '../../src/engine/checkpoint/index.ts';
import type { LazyTensor } from '../../src/engine/checkpoint/index.ts';
import {
  PickleWriter,
  assertCheckpointError,
  float32Bytes,
  objectNpy,
  pickledArray,
  tempDir,
  writeNpy,
} from './helpers.ts';

const opts = { timeout: 10000 };
const { dir, cleanup } = tempDir();
after(cleanup);

function arrayOf(file: string): LazyTensor {
  const content = readNpy(file);
  assert.equal(content.kind, 'array');
  if (content.kind !== 'array') throw new Error('unreachable');
  return content.tensor;
}

describe('.npy reader', () => {
  test('v1 little-endian float32', opts, () => {
    const file = path.join(dir, 'v1.npy');
    writeNpy(
      file,
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
      float32Bytes([1, 2, 3, 4, 5, 6]),
    );
    const t = arrayOf(file);
    assert.deepEqual(t.shape, [2, 3]);
    assert.deepEqual([...t.float32()], [1, 2, 3, 4, 5, 6]);
  });

  test('v2 header with a big-endian >f4 array', opts, () => {
    const file = path.join(dir, 'v2-be.npy');
    const data = Buffer.alloc(12);
    [1.5, -2, 1e-3].forEach((v, i) => data.writeFloatBE(v, i * 4));
    writeNpy(file, "{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", data, 2);
    assert.deepEqual([...arrayOf(file).float32()], [1.5, -2, Math.fround(1e-3)]);
  });

  test('v3 header (UTF-8)', opts, () => {
    const file = path.join(dir, 'v3.npy');
    writeNpy(
      file,
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }",
      float32Bytes([7, 8]),
      3,
    );
    assert.deepEqual([...arrayOf(file).float32()], [7, 8]);
  });

  test('Fortran order comes back in C order', opts, () => {
    const file = path.join(dir, 'fortran.npy');
    // [[1, 2, 3], [4, 5, 6]] stored column by column.
    writeNpy(
      file,
      "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
      float32Bytes([1, 4, 2, 5, 3, 6]),
    );
    const t = arrayOf(file);
    assert.deepEqual(t.shape, [2, 3]);
    assert.deepEqual([...t.float32()], [1, 2, 3, 4, 5, 6]);
  });

  test('other dtypes convert to float32', opts, () => {
    const cases: [string, Uint8Array, number[]][] = [
      ['<f8', new Uint8Array(new Float64Array([0.5, -1.25]).buffer), [0.5, -1.25]],
      ['<f2', Uint8Array.from([0x00, 0x3c, 0x00, 0xbc]), [1, -1]],
      ['<i8', new Uint8Array(new BigInt64Array([3n, -4n]).buffer), [3, -4]],
      ['<i4', new Uint8Array(new Int32Array([5, -6]).buffer), [5, -6]],
      ['|u1', Uint8Array.from([0, 255]), [0, 255]],
      ['|b1', Uint8Array.from([1, 0]), [1, 0]],
    ];
    for (const [descr, data, expected] of cases) {
      const file = path.join(dir, `dtype-${descr.slice(1)}.npy`);
      writeNpy(file, `{'descr': '${descr}', 'fortran_order': False, 'shape': (2,), }`, data);
      assert.deepEqual([...arrayOf(file).float32()], expected, descr);
    }
  });

  test('pickled dict of arrays (numpy 2 module names, big-endian value)', opts, () => {
    const file = path.join(dir, 'dict.npy');
    const be = Buffer.alloc(8);
    be.writeFloatBE(0.25, 0);
    be.writeFloatBE(-8, 4);
    objectNpy(
      file,
      (w) => {
        w.emptyDict().mark().str('b.jpg');
        pickledArray(w, [1, 2], float32Bytes([1, 2]));
        w.str('a.jpg');
        pickledArray(w, [2], be, 'f4', '>');
        w.setitems();
      },
      'numpy._core.multiarray',
    );
    const content = readNpy(file);
    assert.equal(content.kind, 'dict');
    if (content.kind !== 'dict') return;
    assert.deepEqual([...content.entries.keys()], ['b.jpg', 'a.jpg']);
    assert.deepEqual([...(content.entries.get('b.jpg')?.float32() ?? [])], [1, 2]);
    assert.deepEqual(content.entries.get('a.jpg')?.shape, [2]);
    assert.deepEqual([...(content.entries.get('a.jpg')?.float32() ?? [])], [0.25, -8]);
  });

  test('object array that is not a dict of arrays', opts, () => {
    const list = path.join(dir, 'list.npy');
    objectNpy(list, (w) => w.emptyList().mark().int(1).int(2).appends());
    assertCheckpointError(() => readNpy(list), 'bad-format', list, 'dict');
    const strings = path.join(dir, 'dict-of-str.npy');
    objectNpy(strings, (w) => w.emptyDict().mark().str('k').str('v').setitems());
    assertCheckpointError(() => readNpy(strings), 'bad-format', strings, 'k');
    const wrongBytes = path.join(dir, 'short-entry.npy');
    objectNpy(wrongBytes, (w) => {
      w.emptyDict().mark().str('k');
      pickledArray(w, [1, 10, 64], float32Bytes([1, 2, 3]));
      w.setitems();
    });
    assertCheckpointError(() => readNpy(wrongBytes), 'bad-shape', wrongBytes, '1, 10, 64');
  });

  test('a hostile pickle inside an object array', opts, () => {
    const file = path.join(dir, 'evil.npy');
    const pickle = new PickleWriter()
      .proto(2)
      .global('os', 'system')
      .str('ls')
      .tupleN(1)
      .reduce()
      .stop();
    writeNpy(file, "{'descr': '|O', 'fortran_order': False, 'shape': (), }", pickle.toBytes());
    assertCheckpointError(() => readNpy(file), 'forbidden-global', file, 'os.system');
  });

  test('huge declared shape, bad headers, wrong magic, truncation', opts, () => {
    const huge = path.join(dir, 'huge.npy');
    writeNpy(
      huge,
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000000000), }",
      float32Bytes([1]),
    );
    assertCheckpointError(() => readNpy(huge), 'bad-shape', huge);
    const short = path.join(dir, 'short.npy');
    writeNpy(
      short,
      "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
      float32Bytes([1, 2]),
    );
    assertCheckpointError(() => readNpy(short), 'bad-shape', short, '8 bytes');
    const structured = path.join(dir, 'structured.npy');
    writeNpy(
      structured,
      "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,), }",
      float32Bytes([1]),
    );
    assertCheckpointError(() => readNpy(structured), 'unsupported', structured);
    const complex = path.join(dir, 'complex.npy');
    writeNpy(
      complex,
      "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
      float32Bytes([1, 2]),
    );
    assertCheckpointError(() => readNpy(complex), 'unsupported', complex, 'c8');
    const code = path.join(dir, 'code.npy');
    writeNpy(code, "{'descr': __import__('os').system('ls'), 'shape': (1,), }", float32Bytes([1]));
    assertCheckpointError(() => readNpy(code), 'bad-format', code);
    const png = path.join(dir, 'photo.npy');
    fs.writeFileSync(
      png,
      Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
    );
    assertCheckpointError(() => readNpy(png), 'bad-magic', png);
    const cut = path.join(dir, 'cut.npy');
    fs.writeFileSync(cut, Buffer.from("\x93NUMPY\x01\x00\x76\x00{'descr': '<f4',", 'latin1'));
    assertCheckpointError(() => readNpy(cut), 'truncated', cut);
    const missing = path.join(dir, 'missing.npy');
    assertCheckpointError(() => readNpy(missing), 'not-found', missing);
  });
});
