/**
 * `npm run bench:micro`: the small time and memory figures that used to be asserted in tests
 * (tests now check the property behind each by counting reads, allocations or renders). Prints
 * one line per measurement; run it on an idle machine, and compare figures within one run.
 *
 *   node --expose-gc --import tsx bench/micro.ts
 *
 * - checkpoint: RSS growth while opening a 200 MB checkpoint (a sparse file) and reading its one
 *   small tensor: lazy reads keep it near zero.
 * - decode: RSS growth while refusing a PNG whose header claims 60000×60000 (10.8 GB of RGB).
 * - demo dicts: time and heap + ArrayBuffer growth to describe the 1024 demo checkpoints
 *   (~345 M values, ~1.4 GB if materialised).
 * - fillNormal: N(0,1) float32 values per second (the target is 50 M/s).
 */
import fs from 'node:fs';
import path from 'node:path';
import { openTorchCheckpoint, requireTensor, stateDictAt } from '../src/engine/checkpoint/index.ts';
import { numel } from '../src/engine/checkpoint/tensor.ts';
import { decodeImage } from '../src/engine/image/decode.ts';
import { demoCheckpoints } from '../src/engine/families/dualstylegan/demo-weights.ts';
import { createRng } from '../src/engine/random.ts';
import { float32Bytes, stateDictPickle, tempDir, writeZip } from '../test/checkpoint/helpers.ts';
import { pngHeaderOnly } from '../test/helpers/images.ts';

const MB = 2 ** 20;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const rss = (): number => {
  gc();
  return process.memoryUsage().rss;
};

function checkpoint(): string {
  const { dir, cleanup } = tempDir();
  try {
    const big = 50 * 1024 * 1024; // floats: a 200 MB storage, written as a hole
    const file = path.join(dir, 'big.pt');
    writeZip(file, [
      {
        name: 'archive/data.pkl',
        data: stateDictPickle('g_ema', [
          {
            key: 'big',
            storage: '0',
            type: 'FloatStorage',
            numel: big,
            size: [big / 1024, 1024],
            stride: [1024, 1],
          },
          {
            key: 'small',
            storage: '1',
            type: 'FloatStorage',
            numel: 4,
            size: [2, 2],
            stride: [2, 1],
          },
        ]),
      },
      { name: 'archive/data/0', data: { sparse: big * 4 } },
      { name: 'archive/data/1', data: float32Bytes([1, 2, 3, 4]) },
    ]);
    const before = rss();
    const ck = openTorchCheckpoint(file);
    requireTensor(stateDictAt(ck, ['g_ema']), 'small', file).float32();
    ck.close();
    const grown = process.memoryUsage().rss - before;
    const size = fs.statSync(file).size;
    return `checkpoint: ${(size / MB).toFixed(0)} MB file, one tensor read: RSS +${(grown / MB).toFixed(1)} MB`;
  } finally {
    cleanup();
  }
}

async function decode(): Promise<string> {
  const before = rss();
  const refused = await decodeImage(pngHeaderOnly(60000, 60000)).then(
    () => 'decoded (!)',
    (e: { code?: string }) => e.code ?? 'error',
  );
  const grown = process.memoryUsage().rss - before;
  return `decode: 60000×60000 PNG header ${refused}: RSS +${(grown / MB).toFixed(1)} MB`;
}

function demoDicts(): string {
  gc();
  const before = process.memoryUsage();
  const start = performance.now();
  const d = demoCheckpoints({ size: 1024, exemplars: 300 });
  const ms = performance.now() - start;
  const after = process.memoryUsage();
  const values = [d.generator, d.encoder.stateDict, d.sampler.structure, d.sampler.color]
    .flatMap((x) => [...x.values()])
    .reduce((a, x) => a + numel(x.shape), 0);
  const grown = after.heapUsed - before.heapUsed + after.arrayBuffers - before.arrayBuffers;
  return `demo dicts (1024, 300 exemplars): ${(values / 1e6).toFixed(0)} M values described in ${ms.toFixed(0)} ms, heap + buffers +${(grown / MB).toFixed(1)} MB`;
}

function fillNormal(): string {
  const out = new Float32Array(20_000_000);
  const rng = createRng(0);
  rng.fillNormal(out.subarray(0, 1_000_000)); // JIT warm-up
  const start = performance.now();
  rng.fillNormal(out);
  const perSecond = out.length / ((performance.now() - start) / 1000);
  return `fillNormal: ${(perSecond / 1e6).toFixed(1)} M values/s`;
}

if (!(globalThis as { gc?: unknown }).gc) {
  console.log('(run with node --expose-gc for steadier memory figures)');
}
console.log(checkpoint());
console.log(await decode());
console.log(demoDicts());
console.log(fillNormal());
