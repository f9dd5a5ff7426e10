/**
 * `npm run bench`: the engine on the 1024 demo pack (the official architecture), on this CPU.
 * Per-stage latency, end to end photo → JPEG, re-roll with a cached latent, generator
 * throughput at batch 1/2/4, model load time and peak RSS. Prints a table, writes JSON.
 *
 * The preview (the generator's head): its time, when it arrives within a generation, and how
 * close it is to the final image downscaled to its size.
 *
 *   npm run bench -- [--runs 5] [--models bench/.packs] [--photo test/fixtures/alignment/astronaut.png]
 *                    [--device cpu|cuda|webgpu|dml|coreml|auto]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Engine, type Timings } from '../src/engine/engine.ts';
import { writeDemoPacks, demoPackName } from '../src/engine/pack/demo-packs.ts';
import { openPack } from '../src/engine/pack/store.ts';
import { ModelPool } from '../src/engine/runtime/pool.ts';
import { DEVICES, type Device, type TensorData } from '../src/engine/runtime/session.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    models: { type: 'string', default: join('bench', '.packs') },
    photo: { type: 'string', default: join('test', 'fixtures', 'alignment', 'astronaut.png') },
    device: { type: 'string', default: 'cpu' },
  },
});
if (!(DEVICES as readonly string[]).includes(args.device!))
  throw new Error(`--device must be one of ${DEVICES.join(', ')}`);
const device = args.device as Device;
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
const engine = await Engine.create({ modelsDir, cacheUrl: 'memory', device });
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
// What no stage timed (queueing, the latent cache, hashing the photo), run by run.
const gaps = cold.map((t, i) => totals[i]! - Object.values(t).reduce((a, b) => a + (b ?? 0), 0));
record('not in any stage (median per run)', median(gaps));
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
// The models live in the inference host (a child process); this process keeps the queue.
const hostPeak = engine.health().peakRssBytes;
if (hostPeak === undefined) throw new Error('the inference host reported no memory figure');
await engine.close();
report.engineRssMb = Math.round(hostPeak / 1024 ** 2);
report.mainRssMb = rssMb();
rows.push(['peak RSS, inference host (encoder + one style + faces)', `${report.engineRssMb} MB`]);
rows.push(['peak RSS, main process (queue, cache)', `${report.mainRssMb} MB`]);

// Raw generator throughput by batch size, on the pool directly (no queue, no image encoding).
const pool = new ModelPool({
  modelsDir,
  budgetBytes: 4 * 1024 ** 3,
  session: { device },
  warmup: true,
});
const style = await pool.style(pack);
rows.unshift(['execution provider', style.provider]);
report.provider = style.provider;
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

// The preview: the head alone, and when it arrives inside a full generation.
if (style.previewSize !== undefined) {
  const s = style.previewSize;
  const alone: number[] = [];
  const arrives: number[] = [];
  const full: number[] = [];
  const mae: number[] = [];
  // engine.preview off: the same pack's whole generator, interleaved with the halves below.
  const wholePool = new ModelPool({
    modelsDir,
    budgetBytes: 4 * 1024 ** 3,
    session: { device, preview: false },
    warmup: true,
  });
  const whole = await wholePool.style(pack);
  const wholeTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    const item = {
      content: style.exemplar(i % 8),
      exstyle: await style.map(style.exemplar((i + 1) % 8)),
      weights: new Array<number>(n).fill(0.6),
      truncation: 0.7,
      contentIsW: false,
    };
    start = performance.now();
    await style.preview([item]);
    alone.push(performance.now() - start);
    let preview: TensorData | undefined;
    start = performance.now();
    const image = await style.generate([item], undefined, (p) => {
      preview = p;
      arrives.push(performance.now() - start);
    });
    full.push(performance.now() - start);
    mae.push(greyMae(preview!.data, boxDown(image, s)));
    start = performance.now();
    await whole.generate([item]);
    wholeTimes.push(performance.now() - start);
  }
  await wholePool.close();
  record(`preview ${s}² alone (median)`, median(alone));
  record('preview arrives, within a generation (median)', median(arrives));
  record('whole generation with the preview (median)', median(full));
  record('generation without it, engine.preview off (median)', median(wholeTimes));
  record(
    'with the preview / without, per run (median)',
    median(full.map((t, i) => t / wholeTimes[i]!)),
    '×',
  );
  record('preview vs final downscaled: mean abs error', median(mae), 'grey levels');
} else {
  rows.push(['preview', 'none: the pack predates previews (re-run models demo)']);
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

/** Mean |a − b| over [-1, 1] values clamped as images are saved, in grey levels (0..255). */
function greyMae(a: Float32Array, b: Float32Array): number {
  const clamp = (x: number): number => Math.min(1, Math.max(-1, x));
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(clamp(a[i]!) - clamp(b[i]!));
  return (sum / a.length) * 127.5;
}

/** Image 0 of [B,3,S,S] → [3,s,s], averaging f×f blocks (what a downscale to s does). */
function boxDown(image: TensorData, s: number): Float32Array {
  const S = image.dims[3]!;
  const f = S / s;
  const out = new Float32Array(3 * s * s);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++) {
        let sum = 0;
        for (let j = 0; j < f; j++)
          for (let i = 0; i < f; i++) sum += image.data[c * S * S + (y * f + j) * S + x * f + i]!;
        out[c * s * s + y * s + x] = sum / (f * f);
      }
  return out;
}
