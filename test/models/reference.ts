/**
 * The reference-tiny64 golden cases and how to run them through the production path, shared by
 * parity.test.ts (z+ content) and wplus.test.ts (W+ content).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { readNpy } from '../../src/engine/checkpoint/npy.ts';
import type { LoadedStyle } from '../../src/engine/runtime/loaded.ts';
import type { TensorData } from '../../src/engine/runtime/session.ts';
import { TINY, parity } from '../helpers/packs.ts';

export interface GeneratorCase {
  name: string;
  instyle: string;
  exstyle_table: string;
  exstyle_keys: string[];
  exstyle_ids: number[];
  structure_weight: number;
  color_weight: number;
  interp_weights: number[];
  truncation: number;
  preserve_color: boolean;
  output: string;
}

export const cases = JSON.parse(readFileSync(join(TINY, 'cases.json'), 'utf8')) as {
  n_latent: number;
  style_dim: number;
  generator: GeneratorCase[];
  wplus: {
    encoder_file: string;
    encoder: { input: string; codes: string };
    generator: GeneratorCase[];
  };
};

export function golden(name: string): TensorData {
  const content = readNpy(join(TINY, 'golden', name));
  assert.equal(content.kind, 'array');
  return { dims: content.tensor.shape, data: content.tensor.float32() };
}

export function table(name: string): Map<string, Float32Array> {
  const content = readNpy(join(TINY, 'checkpoint', 'cartoon', name));
  assert.equal(content.kind, 'dict');
  return new Map([...content.entries].map(([k, v]) => [k, v.float32()]));
}

export function assertParity(
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

/**
 * Runs one golden generator case as the engine does: LoadedStyle.input turns the request's
 * structure and colour weights into slot weights with the engine's generatorSettings (checked
 * against the reference's), maps the exemplar with preserve colour when asked, and
 * LoadedStyle.generate runs the batch. The exemplar
 * comes from the pack (by id) when the case uses the table the pack stores; the pack keeps only
 * that table, so the others' z+ rows are read from the checkpoint.
 */
export async function generateCase(
  style: LoadedStyle,
  c: GeneratorCase,
  contentIsW: boolean,
): Promise<TensorData> {
  const m = style.manifest;
  const content = golden(c.instyle);
  const [b, n, d] = content.dims as [number, number, number];
  assert.equal(c.exstyle_keys.length, b);
  const codes = table(c.exstyle_table);
  const inputs = await Promise.all(
    c.exstyle_keys.map(async (key, i) => {
      const id = c.exstyle_ids[i]!;
      let exemplar: Float32Array | undefined;
      if (c.exstyle_table === m.codeTable) {
        assert.equal(m.exemplars[id], key, 'the pack keeps the checkpoint’s exemplar order');
        exemplar = style.exemplar(id);
      } else {
        exemplar = codes.get(key);
      }
      assert.ok(exemplar, `no exemplar ${key}`);
      const face = { code: content.data.slice(i * n * d, (i + 1) * n * d), isW: contentIsW };
      const input = await style.input(face, exemplar, {
        structure: c.structure_weight,
        color: c.color_weight,
        truncation: c.truncation,
        preserveColor: c.preserve_color,
      });
      assert.deepEqual(input.weights, c.interp_weights, `${c.name}: slot weights`);
      return input;
    }),
  );
  return style.generate(inputs);
}
