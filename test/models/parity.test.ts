/**
 * Parity with the reference implementation: the fixture checkpoints are imported with the CLI
 * and every golden case of cases.json runs through onnxruntime-node; the mapping and generator
 * cases through the production path (LoadedStyle.map; LoadedStyle.input for the slot weights,
 * truncation and preserve colour, then LoadedStyle.generate). The W+ encoder's cases are in
 * wplus.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Model } from '../../src/engine/runtime/session.ts';
import { LoadedEncoder, LoadedStyle } from '../../src/engine/runtime/loaded.ts';
import { openPack } from '../../src/engine/pack/store.ts';
import { TINY, pastiche, tempDir } from '../helpers/packs.ts';
import { assertParity, cases, generateCase, golden, table } from './reference.ts';

describe('parity with the reference DualStyleGAN (reference-tiny64)', () => {
  const out = tempDir('parity');
  let sampler: Model;
  let encoderPack: LoadedEncoder;
  let style: LoadedStyle;

  before(async () => {
    await pastiche('models', 'import', join(TINY, 'checkpoint'), '--out', out);
    // LoadedStyle.sample draws its own z from seeds; the golden case gives z, so the graph runs
    // on it directly.
    sampler = await Model.load(join(openPack(out, 'cartoon').dir, 'sampler.onnx'));
    // The golden vectors use the checkpoint's stored noise buffers (randomize_noise=False), as
    // LoadedStyle.generate does without a noise seed.
    encoderPack = await LoadedEncoder.load(openPack(out, 'encoder'), {});
    style = await LoadedStyle.load(openPack(out, 'cartoon'), encoderPack, {});
  });
  after(async () => {
    await sampler.dispose();
    await style.dispose();
    await encoderPack.dispose();
  });

  it('imports every dimension from the checkpoint', () => {
    const m = openPack(out, 'cartoon').manifest;
    assert.equal(m.kind, 'style');
    if (m.kind !== 'style') return;
    assert.equal(m.size, 64);
    assert.equal(m.nLatent, cases.n_latent);
    assert.equal(m.styleDim, cases.style_dim);
    assert.equal(m.nStructure, 7);
    assert.equal(m.codeTable, 'refined_exstyle_code.npy');
    assert.ok(m.ownMapping);
  });

  it('does not rebuild packs whose source files are unchanged', async () => {
    const before = [openPack(out, 'encoder'), openPack(out, 'cartoon')].map(
      (p) => p.manifest.createdAt,
    );
    await pastiche('models', 'import', join(TINY, 'checkpoint'), '--out', out);
    const after = [openPack(out, 'encoder'), openPack(out, 'cartoon')].map(
      (p) => p.manifest.createdAt,
    );
    assert.deepEqual(after, before);
  });

  it('stores the refined exemplar codes in id order', () => {
    const m = openPack(out, 'cartoon');
    const refined = table('refined_exstyle_code.npy');
    assert.deepEqual(m.manifest.kind === 'style' && m.manifest.exemplars, [...refined.keys()]);
    const bytes = readFileSync(join(m.dir, 'codes.bin'));
    const codes = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const expected = Float32Array.from([...refined.values()].flatMap((v) => [...v]));
    assert.deepEqual(codes, expected);
  });

  it('encoder: image → z+ codes with latent_avg', async (t) => {
    // The golden input is the normalized tensor, so the graph runs on it (encode() takes pixels).
    const { codes } = await encoderPack.encoder.run({ image: golden('encoder_input.npy') });
    assertParity(t, codes, golden('encoder_codes.npy'), 'encoder');
  });

  it('mapping: z+ → W+ row by row, with the style’s own mapping network', async (t) => {
    // The fixture's generator has a mapping network of its own (it differs from pSp's decoder).
    assert.ok(style.manifest.ownMapping);
    const zPlus = golden('mapping_in.npy');
    const w = await style.map(zPlus.data);
    assertParity(t, { dims: zPlus.dims, data: w }, golden('mapping_out.npy'), 'mapping');
  });

  for (const c of cases.generator) {
    it(`generator: ${c.name}`, async (t) => {
      assertParity(t, await generateCase(style, c, false), golden(c.output), c.name);
    });
  }

  it('sampler: eval-mode BatchNorm, structure and colour from one z', async (t) => {
    const { structure, color } = await sampler.run({ z: golden('sampler_z.npy') });
    assertParity(t, structure, golden('sampler_structure.npy'), 'structure');
    assertParity(t, color, golden('sampler_color.npy'), 'color');
  });
});
