import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { numel, type StateDict } from '../../src/engine/checkpoint/tensor.ts';
import {
  DEMO_PROFILES,
  demoCheckpoints,
} from '../../src/engine/families/dualstylegan/demo-weights.ts';

const fixtures = new URL('../fixtures/', import.meta.url);

/** [key, shape, dtype] in file order. */
type Entry = [string, number[], string];

function entries(dict: StateDict): Entry[] {
  return [...dict].map(([key, t]) => [key, [...t.shape], t.dtype]);
}

/**
 * Parses official-state-dict-keys.txt (a copy of shared/docs/): three `###` sections,
 * generator.pt, encoder.pt, sampler.pt, each with `key [shape] param|buffer[(dtype)]` lines.
 */
function officialKeys(): Entry[][] {
  const text = readFileSync(new URL('official-state-dict-keys.txt', fixtures), 'utf8');
  const sections: Entry[][] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('###')) sections.push([]);
    const m = /^(\S+)\s+\[([\d, ]*)\]\s+(\S+)$/.exec(line);
    if (m === null) continue;
    const shape = m[2]!.trim() === '' ? [] : m[2]!.split(',').map(Number);
    const dtype = /\((\w+)\)/.exec(m[3]!)?.[1] ?? 'float32';
    sections.at(-1)!.push([m[1]!, shape, dtype]);
  }
  assert.equal(sections.length, 3);
  return sections;
}

function unprefixed(list: Entry[], prefix: string): Entry[] {
  return list
    .filter(([k]) => k.startsWith(prefix))
    .map(([k, s, d]) => [k.slice(prefix.length), s, d]);
}

interface FixtureShapes {
  encoder: Entry[];
  latent_avg: number[];
  opts: Record<string, unknown>;
  generator: Entry[];
  sampler_structure: Entry[];
  sampler_color: Entry[];
}

describe('demoCheckpoints', () => {
  it('size 1024 has exactly the keys, order and shapes of the released files', () => {
    const [generator, encoder, sampler] = officialKeys() as [Entry[], Entry[], Entry[]];
    const demo = demoCheckpoints({ size: 1024 });
    assert.deepEqual(entries(demo.generator), generator);
    assert.deepEqual(
      entries(demo.encoder.stateDict),
      encoder.filter(([k]) => k.startsWith('encoder.')),
    );
    assert.deepEqual(entries(demo.sampler.structure), unprefixed(sampler, 'structure.'));
    assert.deepEqual(entries(demo.sampler.color), unprefixed(sampler, 'color.'));
    assert.deepEqual(demo.encoder.latentAvg.shape, [18, 512]);
    assert.equal(demo.nLatent, 18);
    assert.equal(demo.encoder.opts.get('n_styles'), 18);
    assert.equal(demo.encoder.opts.get('output_size'), 1024);
    assert.equal(demo.encoder.opts.get('start_from_latent_avg'), true);
    // The listing's own totals: 74176268 parameters + 2796432 buffer elements.
    const total = [...demo.generator.values()].reduce((a, t) => a + numel(t.shape), 0);
    assert.equal(total, 74176268 + 2796432);
  });

  it('size 64 matches the reference-tiny64 fixture key for key', () => {
    const fixture = JSON.parse(
      readFileSync(new URL('reference-tiny64-shapes.json', fixtures), 'utf8'),
    ) as FixtureShapes;
    const demo = demoCheckpoints({ size: 64 });
    assert.deepEqual(entries(demo.generator), fixture.generator);
    assert.deepEqual(entries(demo.encoder.stateDict), fixture.encoder);
    assert.deepEqual(entries(demo.sampler.structure), fixture.sampler_structure);
    assert.deepEqual(entries(demo.sampler.color), fixture.sampler_color);
    assert.deepEqual(demo.encoder.latentAvg.shape, fixture.latent_avg);
    for (const key of ['output_size', 'start_from_latent_avg', 'learn_in_w', 'encoder_type']) {
      assert.equal(demo.encoder.opts.get(key), fixture.opts[key], key);
    }
  });

  it('size 256 follows the same rules with 14 slots and its own widths', () => {
    const demo = demoCheckpoints({ size: 256, exemplars: 3 });
    const shape = (d: StateDict, k: string): readonly number[] | undefined => d.get(k)?.shape;
    assert.equal(demo.nLatent, 14);
    assert.equal(demo.profile, DEMO_PROFILES[256]);
    assert.deepEqual(shape(demo.generator, 'generator.noises.noise_12'), [1, 1, 256, 256]);
    assert.equal(demo.generator.has('generator.noises.noise_13'), false);
    assert.deepEqual(shape(demo.generator, 'generator.convs.11.conv.weight'), [1, 32, 32, 3, 3]);
    assert.deepEqual(shape(demo.generator, 'res.6.norm.style.weight'), [256, 128]);
    assert.deepEqual(shape(demo.generator, 'res.13.weight'), [128, 128]);
    assert.equal(demo.generator.has('res.14.weight'), false);
    assert.deepEqual(
      shape(demo.encoder.stateDict, 'encoder.styles.13.convs.10.weight'),
      [64, 64, 3, 3],
    );
    assert.deepEqual(shape(demo.encoder.stateDict, 'encoder.styles.13.linear.weight'), [128, 64]);
    assert.deepEqual(shape(demo.sampler.color, 'lin_out.weight'), [7 * 128, 128]);
    assert.deepEqual([...demo.exstyleCodes.keys()], ['demo-00.jpg', 'demo-01.jpg', 'demo-02.jpg']);
    assert.deepEqual(demo.exstyleCodes.get('demo-02.jpg')?.shape, [1, 14, 128]);
  });

  it('gives 8 exemplar codes by default, named in style-id order', () => {
    const codes = demoCheckpoints({ size: 64 }).exstyleCodes;
    assert.deepEqual(
      [...codes.keys()],
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `demo-0${i}.jpg`),
    );
    assert.equal(demoCheckpoints({ size: 64, exemplars: 120 }).exstyleCodes.size, 120);
    assert.ok(demoCheckpoints({ size: 64, exemplars: 120 }).exstyleCodes.has('demo-007.jpg'));
    assert.throws(() => demoCheckpoints({ size: 64, exemplars: -1 }), RangeError);
    assert.throws(() => demoCheckpoints({ size: 128 as 64 }), RangeError);
  });

  it('is deterministic: same seed same values, other seed other values', () => {
    const a = demoCheckpoints({ size: 64, seed: 5 });
    const b = demoCheckpoints({ size: 64, seed: 5 });
    const c = demoCheckpoints({ size: 64, seed: 6 });
    const pick = (d: typeof a): Float32Array[] => [
      d.generator.get('generator.conv1.conv.weight')!.float32(),
      d.generator.get('res.3.norm2.style.bias')!.float32(),
      d.encoder.stateDict.get('encoder.body.7.shortcut_layer.1.running_var')!.float32(),
      d.encoder.latentAvg.float32(),
      d.sampler.color.get('lin_out.weight')!.float32(),
      d.exstyleCodes.get('demo-03.jpg')!.float32(),
    ];
    const [va, vb, vc] = [pick(a), pick(b), pick(c)];
    va.forEach((x, i) => {
      assert.deepEqual(x, vb[i]);
      assert.notDeepEqual(x, vc[i]);
    });
    // Every call returns the same values in a fresh array the caller may keep or modify.
    const t = a.generator.get('generator.noises.noise_5')!;
    const first = t.float32();
    first.fill(0);
    assert.notDeepEqual(t.float32(), first);
    assert.deepEqual(t.float32(), t.float32());
    // Structure and colour samplers, and distinct keys, are distinct streams.
    assert.notDeepEqual(
      a.sampler.structure.get('lin1.weight')!.float32(),
      a.sampler.color.get('lin1.weight')!.float32(),
    );
  });

  it('initialises values as the reference layers expect', () => {
    const d = demoCheckpoints({ size: 1024, seed: 1 });
    const g = (k: string): Float32Array => d.generator.get(k)!.float32();
    const e = (k: string): Float32Array => d.encoder.stateDict.get(k)!.float32();
    const std = (v: Float32Array): number => Math.sqrt(v.reduce((a, x) => a + x * x, 0) / v.length);
    const mean = (v: Float32Array): number => v.reduce((a, x) => a + x, 0) / v.length;
    assert.ok(Math.abs(std(g('generator.style.3.weight')) / 100 - 1) < 0.02); // N(0,1)/lr_mul
    assert.ok(Math.abs(std(g('generator.convs.9.conv.weight')) - 1) < 0.02);
    assert.ok(Math.abs(std(g('generator.noises.noise_16')) - 1) < 0.01);
    assert.ok(Math.abs(mean(g('generator.conv1.conv.modulation.bias')) - 1) < 0.05);
    const kernel = [1, 3, 3, 1].flatMap((a) => [1, 3, 3, 1].map((b) => (a * b) / 16));
    assert.deepEqual([...g('generator.convs.4.conv.blur.kernel')], kernel);
    assert.deepEqual([...g('generator.to_rgbs.7.upsample.kernel')], kernel);
    const tc = g('res.12.weight');
    assert.ok(Math.abs(tc[5 * 512 + 5]! - Math.sqrt(512)) < 1 && Math.abs(tc[5 * 512 + 6]!) < 1);
    const noiseStrength = g('generator.convs.3.noise.weight')[0]!;
    assert.ok(noiseStrength !== 0 && Math.abs(noiseStrength) < 0.5);
    const fan = 256 * 9;
    assert.ok(Math.abs(std(e('encoder.body.10.res_layer.1.weight')) * Math.sqrt(fan) - 1) < 0.02);
    const runningVar = e('encoder.body.0.res_layer.0.running_var');
    assert.ok(runningVar.every((v) => v > 0.7 && v < 1.3) && new Set(runningVar).size > 1);
    const prelu = e('encoder.input_layer.2.weight');
    assert.ok(prelu.every((v) => v > 0.15 && v < 0.35) && new Set(prelu).size > 1);
    assert.deepEqual([...e('encoder.body.0.res_layer.0.num_batches_tracked')], [0]);
    assert.equal(
      d.encoder.stateDict.get('encoder.input_layer.1.num_batches_tracked')!.dtype,
      'int64',
    );
  });

  it('every demo-64 and demo-256 tensor is finite and only buffers are constant', () => {
    for (const size of [64, 256] as const) {
      const d = demoCheckpoints({ size });
      const dicts = [d.generator, d.encoder.stateDict, d.sampler.structure, d.sampler.color];
      for (const [key, t] of dicts.flatMap((x) => [...x])) {
        const v = t.float32();
        assert.equal(v.length, numel(t.shape), key);
        assert.ok(v.every(Number.isFinite), key);
        const constantOk = /kernel|num_batches_tracked|noise\.weight$/.test(key);
        if (!constantOk)
          assert.ok(
            v.some((x) => x !== v[0]),
            `${key} is constant`,
          );
      }
    }
  });

  it('materialises nothing up front: building the 1024 dicts allocates no tensor values', () => {
    // The build's time and memory are measured by `npm run bench:micro`; here, the floats
    // allocated: none for the ~345 M values described, exactly its own for a tensor read.
    const [d, built] = floatsAllocated(() => demoCheckpoints({ size: 1024, exemplars: 300 }));
    const values = [d.generator, d.encoder.stateDict, d.sampler.structure, d.sampler.color]
      .flatMap((x) => [...x.values()])
      .reduce((a, x) => a + numel(x.shape), 0);
    assert.ok(values > 340e6); // materialised, ~1.4 GB of float32
    assert.ok(built < 1e5, `the build allocated ${built} floats`);
    const style = d.generator.get('style.1.weight')!;
    const [, read] = floatsAllocated(() => style.float32());
    assert.equal(read, numel(style.shape));
  });
});

/** Runs `work`, counting the values of every Float32Array constructed meanwhile. */
function floatsAllocated<T>(work: () => T): [T, number] {
  let floats = 0;
  const Real = globalThis.Float32Array;
  globalThis.Float32Array = new Proxy(Real, {
    construct(target, args: [number], newTarget: typeof Real) {
      const array = Reflect.construct(target, args, newTarget) as Float32Array;
      floats += array.length;
      return array;
    },
  });
  try {
    return [work(), floats];
  } finally {
    globalThis.Float32Array = Real;
  }
}
