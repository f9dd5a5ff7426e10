/**
 * What the importer checks before a pack is installed (issue 11, findings 3, 6 and 7): every
 * dimension of the noise buffers, a verify pass on the written pack, pack-name collisions, and
 * an `--out` it created left behind on failure.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CheckpointError } from '../../src/engine/checkpoint/errors.ts';
import { tensorOf } from '../../src/engine/checkpoint/tensor.ts';
import type { LazyTensor } from '../../src/engine/checkpoint/tensor.ts';
import { demoCheckpoints } from '../../src/engine/families/dualstylegan/demo-weights.ts';
import { writeStylePack } from '../../src/engine/families/dualstylegan/style-pack.ts';
import { importOfficial, stylePackNames } from '../../src/engine/pack/official.ts';
import { float32Bytes, objectNpy, pickledArray } from '../checkpoint/helpers.ts';
import { TINY, tempDir } from '../helpers/packs.ts';

const provenance = { sources: [], licence: 'test', demo: true };

describe('import checks', () => {
  const root = tempDir('import-checks');

  it('refuses a noise buffer with any wrong dimension, writing nothing', async () => {
    const demo = demoCheckpoints({ size: 64 });
    const out = join(root, 'noise');
    // noise_1 has the right height (dimension 2, the only one checked before) but is 16 wide.
    for (const shape of [
      [1, 1, 8, 16],
      [1, 3, 8, 8],
      [2, 1, 8, 8],
    ]) {
      const generator = new Map<string, LazyTensor>(demo.generator);
      const n = shape.reduce((a, b) => a * b, 1);
      generator.set('generator.noises.noise_1', tensorOf(shape, new Float32Array(n)));
      await assert.rejects(
        writeStylePack(
          out,
          'broken',
          'none',
          {
            generator,
            generatorFile: 'crafted/generator.pt',
            codes: demo.exstyleCodes,
            codesFile: 'crafted/exstyle_code.npy',
            codeTable: 'exstyle_code.npy',
          },
          provenance,
        ),
        (error: unknown) =>
          error instanceof CheckpointError &&
          error.code === 'bad-shape' &&
          /noises\.noise_1 has shape/.test(error.message),
      );
      assert.deepEqual(readdirSync(out), [], 'no pack and no .partial folder');
    }
  });

  it('imports the reference release, verifying each pack before installing it', async () => {
    const release = join(root, 'release');
    mkdirSync(join(release, 'cartoon'), { recursive: true });
    copyFileSync(join(TINY, 'checkpoint', 'encoder.pt'), join(release, 'encoder.pt'));
    for (const f of ['generator.pt', 'exstyle_code.npy', 'sampler.pt'])
      copyFileSync(join(TINY, 'checkpoint', 'cartoon', f), join(release, 'cartoon', f));
    const out = join(root, 'models');
    const manifests = await importOfficial(release, { out });
    assert.deepEqual(
      manifests.map((m) => m.name),
      ['encoder', 'cartoon'],
    );
    assert.deepEqual(readdirSync(out).sort(), ['cartoon', 'encoder']);
  });

  it('refuses style folders that collide with the encoder or with each other', () => {
    assert.throws(() => stylePackNames('/r', ['Encoder']), /already taken by the shared encoder/);
    assert.throws(() => stylePackNames('/r', ['Cartoon', 'cartoon']), /style folder "Cartoon"/);
    assert.throws(() => stylePackNames('/r', ['_x']), /must start with a letter or digit/);
    assert.deepEqual(
      [...stylePackNames('/r', ['Cartoon', 'anime 2']).values()],
      ['cartoon', 'anime-2'],
    );
  });

  it('does not leave an --out it created when the import fails', async () => {
    const release = join(root, 'bad-codes');
    mkdirSync(join(release, 'cartoon'), { recursive: true });
    copyFileSync(
      join(TINY, 'checkpoint', 'cartoon', 'generator.pt'),
      join(release, 'cartoon', 'generator.pt'),
    );
    // Codes of the wrong shape fail inside the pack writer, after it made the output folder.
    objectNpy(join(release, 'cartoon', 'exstyle_code.npy'), (w) => {
      w.emptyDict().mark().str('a.png');
      pickledArray(w, [1, 2, 2], float32Bytes([1, 2, 3, 4]));
      w.setitems();
    });
    const out = join(root, 'never');
    await assert.rejects(
      importOfficial(release, { out }),
      (error: unknown) => error instanceof CheckpointError && error.code === 'bad-shape',
    );
    assert.equal(existsSync(out), false);
  });
});
