/**
 * The generator halves with ONNX Runtime's CPU arena on and off, in one process, interleaved (the
 * machine is shared, so only the ratios carry over): what turning an arena off costs in time.
 * Memory needs a process per variant: `bench/run.ts` prints the inference host's peak RSS.
 *
 *   node --import tsx bench/arena.ts [--runs 5] [--models bench/.packs]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { demoPackName } from '../src/engine/pack/demo-packs.ts';
import { openPack } from '../src/engine/pack/store.ts';
import { Model, type TensorData } from '../src/engine/runtime/session.ts';
import { ModelPool } from '../src/engine/runtime/pool.ts';
import { PREVIEW_OUTPUT } from '../src/engine/models/preview.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    models: { type: 'string', default: join('bench', '.packs') },
  },
});
const runs = Number(args.runs);
const pack = demoPackName(1024);
const dir = openPack(args.models!, pack).dir;
const pool = new ModelPool({
  modelsDir: args.models!,
  budgetBytes: 4 * 1024 ** 3,
  session: {},
  warmup: false,
});
const style = await pool.style(pack);
const load = (half: string, arena: boolean) =>
  Model.load(join(dir, `generator-${half}.onnx`), { arena });
const halves = {
  head: { on: await load('head', true), off: await load('head', false) },
  tail: { on: await load('tail', true), off: await load('tail', false) },
};
// The feeds the style would give its head (noise, codes), through its own input builder.
const item = {
  content: style.exemplar(0),
  contentIsW: false,
  exstyle: await style.map(style.exemplar(1)),
  weights: new Array<number>(style.manifest.nLatent).fill(0.6),
  truncation: 0.7,
};
const feeds = (style as unknown as { feeds(b: unknown[]): Record<string, TensorData> }).feeds([
  item,
]);
const pick = (m: Model, f: Record<string, TensorData>) =>
  Object.fromEntries(m.inputs.flatMap((p) => (f[p.name] ? [[p.name, f[p.name]!]] : [])));

const times: Record<string, number[]> = { headOn: [], headOff: [], tailOn: [], tailOff: [] };
const timed = async <T>(key: string, run: () => Promise<T>): Promise<T> => {
  const start = performance.now();
  const out = await run();
  times[key]!.push(performance.now() - start);
  return out;
};
// The first round warms every session up and is not counted.
for (let i = 0; i <= runs; i++) {
  const handover = await timed('headOn', () => halves.head.on.run(pick(halves.head.on, feeds)));
  delete handover[PREVIEW_OUTPUT];
  await timed('headOff', () => halves.head.off.run(pick(halves.head.off, feeds)));
  await timed('tailOn', () => halves.tail.on.run({ ...pick(halves.tail.on, feeds), ...handover }));
  await timed('tailOff', () =>
    halves.tail.off.run({ ...pick(halves.tail.off, feeds), ...handover }),
  );
}
const median = (xs: number[]): number => {
  const sorted = xs.slice(1).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
console.log(`median of ${runs}, interleaved in one process:`);
for (const half of ['head', 'tail'])
  console.log(
    `${half}: arena on ${(m[`${half}On`]! / 1000).toFixed(2)} s, off ${(m[`${half}Off`]! / 1000).toFixed(2)} s, off/on ${(m[`${half}Off`]! / m[`${half}On`]!).toFixed(3)}`,
  );
await pool.close();
