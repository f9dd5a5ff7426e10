/**
 * The crafted checkpoints of issue 11, finding 1 and 3: each must end in a CheckpointError naming
 * the file, quickly, instead of exhausting the heap, overflowing the stack or expanding a few
 * bytes into gigabytes.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { openTorchCheckpoint, stateDictAt } from '../../src/engine/checkpoint/index.ts';
import { hostileCheckpoints } from '../helpers/hostile.ts';
import { assertCheckpointError, tempDir } from './helpers.ts';

const opts = { timeout: 20_000 };
const { dir, cleanup } = tempDir();
after(cleanup);

describe('hostile checkpoints end in a typed error', () => {
  for (const crafted of hostileCheckpoints()) {
    test(crafted.what, opts, () => {
      const file = crafted.write(path.join(dir, `${crafted.name}.pt`));
      const before = process.memoryUsage().rss;
      assertCheckpointError(
        () => {
          const checkpoint = openTorchCheckpoint(file);
          try {
            // Reading the state dict is where a deep key used to overflow the stack.
            for (const t of stateDictAt(checkpoint, ['g_ema']).values()) t.float32();
          } finally {
            checkpoint.close();
          }
        },
        crafted.code,
        file,
      );
      // Not a timing assertion: a memory bound, far under what the old reader allocated (GBs).
      const grown = process.memoryUsage().rss - before;
      assert.ok(grown < 1024 ** 3, `RSS grew by ${grown} bytes`);
    });
  }
});
