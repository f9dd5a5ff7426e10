import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, mock, test } from 'node:test';
import {
  openTorchCheckpoint,
  requireTensor,
  stateDictAt,
} from '../../src/engine/checkpoint/index.ts';
import { float32Bytes, stateDictPickle, tempDir, writeZip } from './helpers.ts';

const { dir, cleanup } = tempDir();
after(cleanup);

const BIG = 50 * 1024 * 1024; // floats: a 200 MB storage, written as a hole in a sparse file

test(
  'opening a checkpoint and reading one tensor reads only that tensor',
  { timeout: 10000 },
  () => {
    const file = path.join(dir, 'big.pt');
    const pickle = stateDictPickle('g_ema', [
      {
        key: 'big',
        storage: '0',
        type: 'FloatStorage',
        numel: BIG,
        size: [BIG / 1024, 1024],
        stride: [1024, 1],
      },
      { key: 'small', storage: '1', type: 'FloatStorage', numel: 4, size: [2, 2], stride: [2, 1] },
    ]);
    writeZip(file, [
      { name: 'archive/data.pkl', data: pickle },
      { name: 'archive/data/0', data: { sparse: BIG * 4 } },
      { name: 'archive/data/1', data: float32Bytes([1, 2, 3, 4]) },
    ]);
    assert.ok(fs.statSync(file).size > 200 * 1024 * 1024);

    // What it costs in memory is measured by `npm run bench:micro`; here, the bytes read.
    const reads = mock.method(fs, 'readSync');
    try {
      const ck = openTorchCheckpoint(file);
      const sd = stateDictAt(ck, ['g_ema']);
      assert.deepEqual(requireTensor(sd, 'big', file).shape, [BIG / 1024, 1024]);
      assert.deepEqual([...requireTensor(sd, 'small', file).float32()], [1, 2, 3, 4]);
      ck.close();
      const bytesRead = reads.mock.calls.reduce((total, call) => total + (call.result ?? 0), 0);
      assert.ok(reads.mock.callCount() > 0, 'reads were not observed');
      assert.ok(
        bytesRead < 256 * 1024,
        `read ${bytesRead} bytes of a ${fs.statSync(file).size}-byte file`,
      );
    } finally {
      reads.mock.restore();
    }
  },
);
