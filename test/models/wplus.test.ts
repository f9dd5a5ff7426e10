/**
 * Parity of the W+ encoder (`encoder_wplus.pt`, `style_transfer.py --wplus`) with the reference:
 * the fixture is imported with the CLI, and the generator cases run through the production path
 * (LoadedStyle.input for the slot weights, truncation and preserve colour, then
 * LoadedStyle.generate).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MANIFEST, readManifest } from '../../src/engine/pack/manifest.ts';
import { openPack } from '../../src/engine/pack/store.ts';
import { LoadedEncoder, LoadedStyle } from '../../src/engine/runtime/loaded.ts';
import { FIXTURES, TINY, parity, pastiche, tempDir } from '../helpers/packs.ts';
import { assertParity, cases, generateCase, golden, table } from './reference.ts';

describe('W+ encoder parity with the reference (reference-tiny64)', () => {
  const out = tempDir('wplus');
  let encoder: LoadedEncoder;
  let identity: LoadedEncoder;
  let style: LoadedStyle;

  before(async () => {
    await pastiche('models', 'import', join(TINY, 'checkpoint'), '--out', out);
    encoder = await LoadedEncoder.load(openPack(out, 'encoder'), {});
    identity = await LoadedEncoder.load(openPack(out, 'encoder-wplus'), {});
    style = await LoadedStyle.load(openPack(out, 'cartoon'), encoder, {});
  });
  after(async () => {
    await style.dispose();
    await encoder.dispose();
    await identity.dispose();
  });

  it('imports encoder_wplus.pt as a second encoder pack that says "space": "w+"', () => {
    const z = openPack(out, 'encoder').manifest;
    const w = openPack(out, 'encoder-wplus').manifest;
    assert.equal(z.kind === 'encoder' && z.space, 'z+');
    assert.equal(w.kind === 'encoder' && w.space, 'w+');
    assert.deepEqual(
      w.sources.map((s) => s.name),
      [cases.wplus.encoder_file],
    );
    assert.equal(identity.space, 'w+');
    assert.equal(encoder.space, 'z+');
    assert.ok(style.acceptsW, 'a freshly imported generator takes content_is_w');
  });

  it('reads manifests written before the field as z+ (pack format 1)', () => {
    const dir = join(out, 'old-encoder');
    const { space, ...old } = JSON.parse(
      readFileSync(join(out, 'encoder', MANIFEST), 'utf8'),
    ) as Record<string, unknown>;
    assert.equal(space, 'z+');
    mkdirSync(dir);
    writeFileSync(join(dir, MANIFEST), JSON.stringify({ ...old, format: 1 }));
    const m = readManifest(dir);
    assert.equal(m.kind === 'encoder' && m.space, 'z+');
  });

  it('W+ encoder: image → W+ codes with latent_avg', async (t) => {
    const { codes } = await identity.encoder.run({ image: golden(cases.wplus.encoder.input) });
    assertParity(t, codes, golden(cases.wplus.encoder.codes), 'W+ encoder');
  });

  for (const c of cases.wplus.generator) {
    it(`generator with W+ content: ${c.name}`, async (t) => {
      assertParity(t, await generateCase(style, c, true), golden(c.output), c.name);
    });
  }

  it('`pastiche stylize --encoder identity` finds encoder-wplus beside the imported style', async () => {
    const run = async (encoder: string) => {
      const output = join(out, `${encoder}.png`);
      const { stdout } = await pastiche(
        'stylize',
        join(FIXTURES, 'alignment', 'astronaut.png'),
        '--style',
        'cartoon:0',
        '--encoder',
        encoder,
        '--json',
        '-o',
        output,
        '--models',
        out,
      );
      return { summary: JSON.parse(stdout) as { encoder?: string }, image: readFileSync(output) };
    };
    const w = await run('identity');
    const z = await run('style');
    assert.equal(w.summary.encoder, 'identity');
    assert.equal(z.summary.encoder, 'style');
    assert.notDeepEqual(w.image, z.image);
  });

  it('the W+ flag changes the output (the content code skips the mapping network)', async () => {
    const c = cases.wplus.generator[0]!;
    const content = golden(c.instyle).data;
    const exstyle = await style.extrinsic(table(c.exstyle_table).get(c.exstyle_keys[0]!)!);
    const item = { content, exstyle, weights: c.interp_weights, truncation: c.truncation };
    const [asW, asZ] = await Promise.all([
      style.generate([{ ...item, contentIsW: true }]),
      style.generate([{ ...item, contentIsW: false }]),
    ]);
    const mixed = await style.generate([
      { ...item, contentIsW: true },
      { ...item, contentIsW: false },
    ]);
    const { error } = parity(asW.data, asZ.data);
    assert.ok(error > 1e-2, `content_is_w had no effect (max difference ${error})`);
    // One batch may mix both kinds of content code.
    assert.ok(parity(mixed.data.subarray(0, asW.data.length), asW.data).error < 1e-5);
    assert.ok(parity(mixed.data.subarray(asW.data.length), asZ.data).error < 1e-5);
  });
});
