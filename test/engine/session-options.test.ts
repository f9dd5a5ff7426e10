/**
 * Session options the benches use: `profile` writes ONNX Runtime's per-operator trace (what
 * `npm run bench:profile` parses), and `spinning: false` changes scheduling, not results.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GraphBuilder } from '../../src/engine/onnx/builder.ts';
import { Model } from '../../src/engine/runtime/session.ts';
import { tempDir } from '../helpers/packs.ts';

/** y = relu(x · W), W a fixed 4 × 3 matrix. */
function writeGraph(dir: string): string {
  const g = new GraphBuilder({ name: 'tiny' });
  const x = g.input('x', [2, 4]);
  const w = Float32Array.from({ length: 12 }, (_, i) => (i % 5) - 2);
  g.output(g.op('Relu', [g.op('MatMul', [x, g.weight('w', [4, 3], w)])]), 'y', [2, 3]);
  const path = join(dir, 'tiny.onnx');
  writeFileSync(path, g.toBytes());
  return path;
}

const feeds = { x: { dims: [2, 4], data: Float32Array.from([1, 2, 3, 4, -1, 0, 1, 2]) } };

describe('session options', () => {
  it('profile writes a trace with one event per operator run', async () => {
    const dir = tempDir('session-profile');
    const model = await Model.load(writeGraph(dir), { profile: join(dir, 'trace') });
    await model.run(feeds);
    await model.run(feeds);
    model.endProfiling();
    await model.dispose();
    const file = readdirSync(dir).find((f) => f.startsWith('trace') && f.endsWith('.json'));
    assert.ok(file, 'a trace file');
    const trace = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
      cat?: string;
      name: string;
      args?: { op_name?: string };
    }[];
    const ops = trace
      .filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'))
      .map((e) => e.args?.op_name);
    assert.equal(trace.filter((e) => e.name === 'model_run').length, 2);
    assert.ok(ops.includes('MatMul') || ops.includes('FusedMatMul'), `ops: ${ops.join(',')}`);
  });

  it('spinning off gives the same output as the default', async () => {
    const path = writeGraph(tempDir('session-spinning'));
    const plain = await Model.load(path);
    const quiet = await Model.load(path, { spinning: false });
    const a = (await plain.run(feeds)).y!;
    const b = (await quiet.run(feeds)).y!;
    assert.deepEqual([...b.data], [...a.data]);
    // x · W by hand for the first row, through the relu.
    const w = Array.from({ length: 12 }, (_, i) => (i % 5) - 2);
    const row = [0, 1, 2].map((j) =>
      Math.max(
        0,
        [1, 2, 3, 4].reduce((s, v, k) => s + v * w[k * 3 + j]!, 0),
      ),
    );
    assert.deepEqual([...a.data.subarray(0, 3)], row);
    await plain.dispose();
    await quiet.dispose();
  });
});
