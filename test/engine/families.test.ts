/**
 * The model-family seam: a pack's `architecture` picks the code that loads and runs it. A test
 * family registered through the public registry runs a request through Engine end to end (in
 * the inference host too); an unknown architecture is a typed error; a pack without the field
 * is DualStyleGAN; `models demo`/`models import` go through the family the options name.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import {
  Engine,
  importOfficial,
  registerFamily,
  UnknownArchitectureError,
  writeDemoPacks,
} from '../../src/engine/index.ts';
import { readManifest } from '../../src/engine/pack/manifest.ts';
import { tempDir } from '../helpers/packs.ts';
import { TOY_ARCHITECTURE } from './toy-family.ts';

/** A copy of the demo style pack under `name`, with its manifest changed by `edit`. */
function copyPack(models: string, name: string, edit: (m: Record<string, unknown>) => void): void {
  cpSync(join(models, 'demo-64'), join(models, name), { recursive: true });
  const file = join(models, name, 'manifest.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  manifest.name = name;
  edit(manifest);
  writeFileSync(file, JSON.stringify(manifest));
}

describe('model families', { timeout: 300_000 }, () => {
  const models = tempDir('families');
  let engine: Engine;
  const random = (pack: string) => ({
    userId: 'u1',
    face: { kind: 'random' as const, seed: 'families' },
    style: { kind: 'exemplar' as const, pack, exemplar: 0 },
    format: 'png' as const,
  });

  before(async () => {
    await writeDemoPacks(models, 64);
    copyPack(models, 'toy-64', (m) => (m.architecture = TOY_ARCHITECTURE));
    copyPack(models, 'mystery-64', (m) => (m.architecture = 'mystery'));
    copyPack(models, 'legacy-64', (m) => delete m.architecture);
    // Before the engine starts: the inference host registers the same families.
    registerFamily(TOY_ARCHITECTURE, new URL('./toy-family.ts', import.meta.url).href);
    engine = await Engine.create({ modelsDir: models, cacheUrl: 'memory', warmup: false });
  });
  after(() => engine.close());

  it('a registered family runs a request through Engine, in both processes', async () => {
    const result = await engine.stylize(random('toy-64'));
    assert.equal(result.style.pack, 'toy-64');
    assert.equal(result.batchSize, 1);
    const { data, info } = await sharp(result.image.bytes)
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [64, 64, 3]);
    // The toy generator's flat (-1, 0, 1): every pixel, so no DualStyleGAN step made it.
    for (let i = 0; i < data.length; i += 3) {
      assert.deepEqual([data[i], data[i + 1], data[i + 2]], [0, 128, 255], `pixel ${i / 3}`);
    }
  });

  it('an unknown architecture is a typed error that names it and the known ones', async () => {
    const error = await engine.stylize(random('mystery-64')).then(
      () => assert.fail('a pack of an unknown architecture ran'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof UnknownArchitectureError, String(error));
    assert.equal(error.code, 'unknown-architecture');
    assert.equal(error.architecture, 'mystery');
    assert.match(error.message, /"mystery".*dualstylegan/);
  });

  it('a pack without `architecture` is DualStyleGAN, and runs as before', async () => {
    const manifest = readManifest(join(models, 'legacy-64'));
    assert.equal(manifest.kind === 'style' && manifest.architecture, 'dualstylegan');
    const legacy = await engine.stylize(random('legacy-64'));
    const demo = await engine.stylize(random('demo-64'));
    assert.deepEqual(legacy.image.bytes, demo.image.bytes);
  });

  it('pack building goes through the family the architecture names', async () => {
    const out = tempDir('families-demo');
    const packs = await writeDemoPacks(out, 64, { architecture: TOY_ARCHITECTURE, wPlus: false });
    assert.equal(packs.style.architecture, TOY_ARCHITECTURE);
    const onDisk = readManifest(join(out, packs.style.name));
    assert.equal(onDisk.kind === 'style' && onDisk.architecture, TOY_ARCHITECTURE);
    await assert.rejects(
      importOfficial(models, { out, architecture: TOY_ARCHITECTURE }),
      /the toy family has no release/,
    );
    await assert.rejects(writeDemoPacks(out, 64, { architecture: 'mystery' }), (e: unknown) => {
      assert.ok(e instanceof UnknownArchitectureError, String(e));
      assert.equal(e.architecture, 'mystery');
      return true;
    });
    await assert.rejects(
      importOfficial(models, { out, architecture: 'mystery' }),
      UnknownArchitectureError,
    );
  });
});
