/**
 * Parity with the reference implementation: the fixture checkpoints are imported with the CLI
 * and every golden case of cases.json runs through onnxruntime-node; the generator cases through
 * the production path (LoadedStyle.extrinsic for mapping and preserve colour, then generate).
 * The W+ encoder's cases are in wplus.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { readNpy } from '../../src/engine/checkpoint/npy.ts';
import { Model, type TensorData } from '../../src/engine/runtime/session.ts';
import { LoadedEncoder, LoadedStyle } from '../../src/engine/runtime/loaded.ts';
import { openPack } from '../../src/engine/pack/store.ts';
import { TINY, parity, pastiche, tempDir } from '../helpers/packs.ts';

interface GeneratorCase {
  name: string;
  instyle: string;
  exstyle_table: string;
  exstyle_keys: string[];
  interp_weights: number[];
  truncation: number;
  preserve_color: boolean;
  output: string;
}
const cases = JSON.parse(readFileSync(join(TINY, 'cases.json'), 'utf8')) as {
  n_latent: number;
  style_dim: number;
  generator: GeneratorCase[];
};

function golden(name: string): TensorData {
  const content = readNpy(join(TINY, 'golden', name));
  assert.equal(content.kind, 'array');
  return { dims: content.tensor.shape, data: content.tensor.float32() };
}

function table(name: string): Map<string, Float32Array> {
  const content = readNpy(join(TINY, 'checkpoint', 'cartoon', name));
  assert.equal(content.kind, 'dict');
  return new Map([...content.entries].map(([k, v]) => [k, v.float32()]));
}

function assertParity(
  t: TestContext,
  ours: TensorData | undefined,
  ref: TensorData,
  what: string,
): void {
  assert.ok(ours, `${what}: no output`);
  assert.deepEqual(ours.dims, ref.dims, `${what}: dims`);
  const { error, bar } = parity(ours.data, ref.data);
  t.diagnostic(`${what}: max error ${error.toExponential(2)} (bar ${bar.toExponential(2)})`);
  assert.ok(error <= bar, `${what}: max error ${error} above ${bar}`);
}

describe('parity with the reference DualStyleGAN (reference-tiny64)', () => {
  const out = tempDir('parity');
  const models: Record<string, Model> = {};
  let encoderPack: LoadedEncoder;
  let style: LoadedStyle;

  before(async () => {
    await pastiche('models', 'import', join(TINY, 'checkpoint'), '--out', out);
    const encoder = openPack(out, 'encoder').dir;
    const cartoon = openPack(out, 'cartoon').dir;
    models.encoder = await Model.load(join(encoder, 'encoder.onnx'));
    // The fixture's generator has a mapping network of its own (it differs from pSp's decoder).
    models.mapping = await Model.load(join(cartoon, 'mapping.onnx'));
    models.sampler = await Model.load(join(cartoon, 'sampler.onnx'));
    // The golden vectors use the checkpoint's stored noise buffers (randomize_noise=False), as
    // LoadedStyle.generate does without a noise seed.
    encoderPack = await LoadedEncoder.load(openPack(out, 'encoder'), {});
    style = await LoadedStyle.load(openPack(out, 'cartoon'), encoderPack, {});
  });
  after(async () => {
    for (const m of Object.values(models)) await m.dispose();
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
    const { codes } = await models.encoder!.run({ image: golden('encoder_input.npy') });
    assertParity(t, codes, golden('encoder_codes.npy'), 'encoder');
  });

  it('mapping: z+ → W+ row by row', async (t) => {
    const zPlus = golden('mapping_in.npy');
    const [, n, d] = zPlus.dims as [number, number, number];
    const { w } = await models.mapping!.run({ z: { dims: [n, d], data: zPlus.data } });
    const ref = golden('mapping_out.npy');
    assertParity(t, w && { dims: [1, n, d], data: w.data }, ref, 'mapping');
  });

  for (const c of cases.generator) {
    it(`generator: ${c.name}`, async (t) => {
      const content = golden(c.instyle);
      const [b, n, d] = content.dims as [number, number, number];
      const codes = table(c.exstyle_table);
      const batch = await Promise.all(
        c.exstyle_keys.map(async (key, i) => {
          const exemplar = codes.get(key);
          assert.ok(exemplar, `no exemplar ${key}`);
          const face = content.data.slice(i * n * d, (i + 1) * n * d);
          // preserve_color: the content code's colour rows replace the exemplar's (z+).
          const keepColour = c.preserve_color ? { content: face, contentIsW: false } : undefined;
          return {
            content: face,
            contentIsW: false,
            exstyle: await style.extrinsic(exemplar, keepColour),
            weights: c.interp_weights,
            truncation: c.truncation,
          };
        }),
      );
      assert.equal(batch.length, b);
      assertParity(t, await style.generate(batch), golden(c.output), c.name);
    });
  }

  it('sampler: eval-mode BatchNorm, structure and colour from one z', async (t) => {
    const { structure, color } = await models.sampler!.run({ z: golden('sampler_z.npy') });
    assertParity(t, structure, golden('sampler_structure.npy'), 'structure');
    assertParity(t, color, golden('sampler_color.npy'), 'color');
  });
});
