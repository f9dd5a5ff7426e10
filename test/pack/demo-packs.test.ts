/**
 * `models demo` writes packs through the same import code as real checkpoints. At 1024 the
 * result must have the official architecture and run a full-size forward pass.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openPack } from '../../src/engine/pack/store.ts';
import { FIXTURES, pastiche, tempDir } from '../helpers/packs.ts';

/** Shapes of the released generator.pt, from the official key list. */
function officialGenerator(): {
  size: number;
  nLatent: number;
  styleDim: number;
  nStructure: number;
} {
  const text = readFileSync(join(FIXTURES, 'official-state-dict-keys.txt'), 'utf8');
  const section = text.split('### ')[1]!;
  const shape = (key: string): number[] => {
    const line = section.split('\n').find((l) => l.startsWith(`${key} `));
    assert.ok(line, `official list has no ${key}`);
    return JSON.parse(/\[[\d, ]*\]/.exec(line)![0]) as number[];
  };
  const noises = section.split('\n').filter((l) => l.startsWith('generator.noises.noise_')).length;
  return {
    size: shape(`generator.noises.noise_${noises - 1}`)[2]!,
    nLatent: noises + 1,
    styleDim: shape('generator.style.1.weight')[1]!,
    nStructure: section.split('\n').filter((l) => /^res\.\d+\.conv\.0\.weight /.test(l)).length,
  };
}

describe('models demo', () => {
  it('--size 64 builds packs that list and verify', async () => {
    const out = tempDir('demo64');
    await pastiche('models', 'demo', '--size', '64', '--out', out);
    const { stdout } = await pastiche('models', 'list', '--dir', out);
    assert.match(stdout, /^demo-64 {2}64px {2}8 exemplars {2}n=10 D=64/m);
    assert.match(stdout, /^demo-64-encoder {2}z\+ encoder/m);
    // Below 1024 the demo includes a W+ ("identity") encoder, so every option can be tried.
    assert.match(stdout, /^demo-64-encoder-wplus {2}w\+ encoder/m);
    const verify = await pastiche(
      'models',
      'verify',
      'demo-64',
      'demo-64-encoder',
      'demo-64-encoder-wplus',
      '--dir',
      out,
    );
    assert.match(
      verify.stdout,
      /demo-64: \d+ files match, ran generator, generator-head, generator-tail, sampler/,
    );
    assert.match(verify.stdout, /demo-64-encoder: \d+ files match, ran encoder, mapping/);
    assert.match(verify.stdout, /demo-64-encoder-wplus: \d+ files match, ran encoder, mapping/);
  });

  it(
    '--size 1024 has the official shapes and runs a 1024² forward pass',
    { timeout: 600_000 },
    async () => {
      const out = tempDir('demo1024');
      await pastiche('models', 'demo', '--size', '1024', '--out', out);
      assert.ok(!existsSync(join(out, 'demo-1024-encoder-wplus')), 'no second 1 GB encoder');
      const m = openPack(out, 'demo-1024').manifest;
      assert.equal(m.kind, 'style');
      const official = officialGenerator();
      assert.deepEqual(
        m.kind === 'style' && {
          size: m.size,
          nLatent: m.nLatent,
          styleDim: m.styleDim,
          nStructure: m.nStructure,
        },
        official,
      );
      assert.equal(
        m.kind === 'style' && m.ownMapping,
        false,
        'the demo style shares the encoder pack mapping',
      );
      // verify runs the generator at batch 1 and checks the output is [1,3,1024,1024] and finite.
      const { stdout } = await pastiche('models', 'verify', 'demo-1024', '--dir', out);
      assert.match(
        stdout,
        /demo-1024: \d+ files match, ran generator, generator-head, generator-tail, sampler/,
      );
    },
  );
});
