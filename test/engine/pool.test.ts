/**
 * The model pool's memory budget counts W+ (identity) encoders beside styles, and evicts both
 * least recently used first; the style a job is loading a W+ encoder for is never the one evicted.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { demoEncoderName } from '../../src/engine/pack/demo-packs.ts';
import { MANIFEST, wPlusEncoderName } from '../../src/engine/pack/manifest.ts';
import { openPack } from '../../src/engine/pack/store.ts';
import { packWeightBytes } from '../../src/engine/runtime/loaded.ts';
import { ModelPool } from '../../src/engine/runtime/pool.ts';
import { installDemoPacks } from '../helpers/demo-packs.ts';
import { tempDir } from '../helpers/packs.ts';

describe('model pool budget', { timeout: 300_000 }, () => {
  const models = join(tempDir('pool'), 'models');
  const pools: ModelPool[] = [];
  let styleBytes: number;
  let wPlusBytes: number;

  before(async () => {
    await installDemoPacks(models, 64, { wPlus: true });
    // A second style: the same pack under another name.
    cpSync(join(models, 'demo-64'), join(models, 'demo-64b'), { recursive: true });
    const manifest = join(models, 'demo-64b', MANIFEST);
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string };
    writeFileSync(manifest, JSON.stringify({ ...m, name: 'demo-64b' }));
    styleBytes = packWeightBytes(openPack(models, 'demo-64'));
    wPlusBytes = packWeightBytes(openPack(models, wPlusEncoderName(demoEncoderName(64))));
    assert.ok(styleBytes > 0 && wPlusBytes > 0);
  });
  after(() => Promise.all(pools.map((p) => p.close())));

  const pool = (budgetBytes: number): ModelPool => {
    const created = new ModelPool({ modelsDir: models, budgetBytes, session: {}, warmup: false });
    pools.push(created);
    return created;
  };
  const names = (p: ModelPool): string[] => p.resident().map((r) => `${r.kind}:${r.name}`);
  const W = `identity-encoder:${wPlusEncoderName(demoEncoderName(64))}`;

  it('holds the budget with both encoders loaded, evicting styles and W+ by LRU', async () => {
    // Room for any two of the three (two styles, one W+ encoder), never for all three.
    const budget = Math.max(2 * styleBytes, styleBytes + wPlusBytes);
    const p = pool(budget);
    const within = (): void => {
      const used = p.resident().reduce((a, r) => a + r.bytes, 0);
      assert.ok(used <= budget, `${used} bytes loaded, budget ${budget}: ${names(p).join(', ')}`);
    };

    const a = await p.style('demo-64');
    const identity = await p.identityEncoder(a);
    assert.equal(identity.space, 'w+');
    assert.equal(a.encoder.space, 'z+', 'the style keeps its z+ encoder');
    assert.deepEqual(names(p), ['style:demo-64', W]);
    assert.deepEqual(
      p.resident().map((r) => r.bytes),
      [styleBytes, wPlusBytes],
    );
    within();

    await p.style('demo-64b');
    assert.deepEqual(names(p), [W, 'style:demo-64b'], 'the least recent, demo-64, went');
    within();

    const again = await p.style('demo-64');
    assert.deepEqual(names(p), ['style:demo-64b', 'style:demo-64'], 'then the W+ encoder');
    within();

    await p.identityEncoder(again);
    assert.deepEqual(names(p), ['style:demo-64', W], 'demo-64b went; the style in use stayed');
    within();
  });

  it('never evicts the style a W+ encoder is loaded for', async () => {
    const p = pool(styleBytes);
    const a = await p.style('demo-64');
    await p.identityEncoder(a);
    assert.deepEqual(names(p), ['style:demo-64', W]);
  });
});
