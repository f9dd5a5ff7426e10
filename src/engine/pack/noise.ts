import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRng } from '../random.ts';
import type { TensorData } from '../runtime/session.ts';
import { PackError } from './manifest.ts';

/** The generator's `noise_i` inputs, as a feeds record. */
export type NoiseFeeds = Record<string, TensorData>;

/** The checkpoint's stored noise buffers from a style pack's `noise.bin`. */
export function storedNoise(dir: string, sizes: readonly number[]): NoiseFeeds {
  const bytes = readFileSync(join(dir, 'noise.bin'));
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const expected = sizes.reduce((a, s) => a + s * s, 0);
  if (all.length !== expected) {
    throw new PackError(dir, `noise.bin holds ${all.length} values, expected ${expected}`);
  }
  const feeds: NoiseFeeds = {};
  let offset = 0;
  sizes.forEach((s, i) => {
    feeds[`noise_${i}`] = { dims: [1, 1, s, s], data: all.slice(offset, offset + s * s) };
    offset += s * s;
  });
  return feeds;
}

/** Fresh N(0,1) noise for every `noise_i` input, drawn from `seed`. */
export function seededNoise(seed: string, sizes: readonly number[]): NoiseFeeds {
  const rng = createRng(`noise:${seed}`);
  const feeds: NoiseFeeds = {};
  sizes.forEach((s, i) => {
    feeds[`noise_${i}`] = { dims: [1, 1, s, s], data: rng.fillNormal(new Float32Array(s * s)) };
  });
  return feeds;
}
