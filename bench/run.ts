/**
 * `npm run bench`: the engine on the 1024 demo pack (the official architecture), on this CPU.
 * Per-stage latency, end to end photo → JPEG, re-roll with a cached latent, generator
 * throughput at batch 1/2/4, model load time and peak RSS. Prints a table, writes JSON.
 *
 *   npm run bench -- [--runs 5] [--models bench/.packs] [--photo test/fixtures/alignment/astronaut.png]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Engine, type Timings } from '../src/engine/engine.ts';
import { writeDemoPacks, demoPackName } from '../src/engine/pack/demo-packs.ts';
import { openPack } from '../src/engine/pack/store.ts';
import { ModelPool } from '../src/engine/runtime/pool.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    models: { type: 'string', default: join('bench', '.packs') },
    photo: { type: 'string', default: join('test', 'fixtures', 'alignment', 'astronaut.png') },
  },
});
const runs = Number(args.runs);
const modelsDir = args.models!;
const pack = demoPackName(1024);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rssMb = (): number => Math.round(process.resourceUsage().maxRSS / 1024);
const rows: [string, string][] = [];
const report: Record<string, unknown> = {
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
};
const record = (label: string, value: number, unit = 'ms'): void => {
  rows.push([
    label,
    unit === 'ms' ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(2)} ${unit}`,
  ]);
  report[label] = value;
};

if (!existsSync(join(modelsDir, pack))) {
  console.log(`building the 1024 demo packs in ${modelsDir} (once) …`);
  await writeDemoPacks(modelsDir, 1024);
}
const photo = new Uint8Array(readFileSync(args.photo!));

let start = performance.now();
const engine = await Engine.create({ modelsDir, cacheUrl: 'memory' });
await engine.preload(pack);
record('model load + warm-up (encoder + style)', performance.now() - start);
report.rssAfterLoadMb = rssMb();

const cold: Timings[] = [];
const totals: number[] = [];
for (let i = 0; i < runs; i++) {
  await engine.forget('bench');
  start = performance.now();
  const result = await engine.stylize({
    userId: 'bench',
    face: { kind: 'photo', bytes: photo },
    style: { kind: 'exemplar', pack, exemplar: i % 8 },
  });
  totals.push(performance.now() - start);
  if (result.cacheHit) throw new Error('expected an encoder run');
  cold.push(result.timings);
}
for (const stage of ['decode', 'detect', 'align', 'encode', 'map', 'generate', 'output'] as const) {
  const xs = cold.map((t) => t[stage] ?? 0);
  record(`stage: ${stage}`, median(xs));
}
record('first request after load (photo → JPEG)', totals[0]!);
record('end to end: photo → 1024² JPEG (median)', median(totals));

const rerolls: number[] = [];
for (let i = 0; i < runs; i++) {
  start = performance.now();
  const result = await engine.stylize({
    userId: 'bench',
    face: { kind: 'photo', bytes: photo },
    style: { kind: 'sampled', pack, structureSeed: `s${i}`, colorSeed: `c${i}` },
  });
  rerolls.push(performance.now() - start);
  if (!result.cacheHit) throw new Error('expected a cache hit');
}
record('re-roll with cached latent (median)', median(rerolls));
await engine.close();
report.engineRssMb = rssMb();
rows.push(['peak RSS, engine (encoder + one style + faces)', `${report.engineRssMb} MB`]);

// Raw generator throughput by batch size, on the pool directly (no queue, no image encoding).
const pool = new ModelPool({ modelsDir, budgetBytes: 4 * 1024 ** 3, session: {}, warmup: true });
const style = await pool.style(pack);
const n = style.manifest.nLatent;
for (const batch of [1, 2, 4]) {
  const item = {
    content: style.exemplar(0),
    contentIsW: false,
    exstyle: await style.extrinsic(style.exemplar(1)),
    weights: new Array<number>(n).fill(0.6),
    truncation: 0.7,
  };
  const items = new Array(batch).fill(item);
  await style.generate(items); // the first run at a new batch size grows the arena
  start = performance.now();
  const reps = Math.max(1, Math.ceil(runs / batch));
  for (let i = 0; i < reps; i++) await style.generate(items);
  const perImage = (performance.now() - start) / (reps * batch);
  record(`generator throughput, batch ${batch}`, 1000 / perImage, 'images/s');
}
await pool.close();
report.peakRssMb = rssMb();
rows.push(['peak RSS, incl. the batch-4 runs', `${report.peakRssMb} MB`]);
report.packDir = openPack(modelsDir, pack).dir;

const width = Math.max(...rows.map(([l]) => l.length));
console.log(
  `\n${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, ${runs} runs\n`,
);
for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);
mkdirSync(join('bench', 'results'), { recursive: true });
writeFileSync(join('bench', 'results', 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
