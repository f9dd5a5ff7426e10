/**
 * `npm run bench:profile`: where the 1024 demo pack's generator and encoder spend their time,
 * from ONNX Runtime's own per-operator trace. Prints time per op type and per block (the
 * generator's StyledConv, ToRGB and ResBlocks by resolution; the encoder's stages by
 * resolution), each with its MACs, computed from the graph's weight shapes and the activation
 * shapes the trace records, and the GFLOP/s it achieved.
 *
 * `--compare` then runs session variants interleaved in this process (thread count, spinning,
 * optimization level) and prints each one's median time as a ratio to the default and its
 * largest difference from the default's output.
 *
 *   npm run bench:profile -- [--runs 3] [--models bench/.packs] [--compare] [--rounds 5]
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import onnxProto from 'onnx-proto';
import { writeDemoPacks, demoPackName } from '../src/engine/pack/demo-packs.ts';
import { createRng } from '../src/engine/random.ts';
import { Model, type SessionOptions, type TensorData } from '../src/engine/runtime/session.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    models: { type: 'string', default: join('bench', '.packs') },
    compare: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '5' },
  },
});
const runs = Number(args.runs);
const modelsDir = args.models!;
const pack = demoPackName(1024);
if (!existsSync(join(modelsDir, pack))) {
  console.log(`building the 1024 demo packs in ${modelsDir} (once) …`);
  await writeDemoPacks(modelsDir, 1024);
}
const styleDir = join(modelsDir, pack);
const encoderDir = join(modelsDir, `${pack}-encoder`);

/** One operator's execution, from the trace. */
interface NodeEvent {
  name: string;
  op: string;
  us: number;
  /** 1 / the number of profiled runs: this event's share of one run. */
  weight: number;
  inputs: number[][];
  outputs: number[][];
}

const shapes = (list: unknown): number[][] =>
  ((list as Record<string, number[]>[] | undefined) ?? []).map((s) => Object.values(s)[0] ?? []);

/** Initializer dims and each node's weight input, by node name, from the source graph. */
function graphWeights(path: string): Map<string, { op: string; weight?: number[] }> {
  const model = onnxProto.onnx.ModelProto.decode(readFileSync(path));
  const dims = new Map(
    (model.graph?.initializer ?? []).map((t) => [t.name!, (t.dims ?? []).map(Number)]),
  );
  return new Map(
    (model.graph?.node ?? []).map((n) => [
      n.name!,
      { op: n.opType!, weight: dims.get(n.input?.[1] ?? '') },
    ]),
  );
}

/**
 * MACs of one operator: Conv, out elements × W[1]·kh·kw (W = [Cout, Cin/group, kh, kw]);
 * ConvTranspose, in elements × W[1]·kh·kw (W = [Cin, Cout/group, kh, kw]); MatMul/Gemm,
 * rows × K × N. 0 for the element-wise rest.
 */
function macs(e: NodeEvent, weight: number[] | undefined): number {
  const prod = (xs: readonly number[] = []): number => xs.reduce((a, b) => a * b, 1);
  if (!weight) return 0;
  return e.weight * runMacs(e, weight, prod);
}

function runMacs(e: NodeEvent, weight: number[], prod: (xs?: readonly number[]) => number): number {
  if (/Conv$/.test(e.op) && e.op !== 'ConvTranspose' && weight.length === 4)
    return prod(e.outputs[0]) * prod(weight.slice(1));
  if (e.op === 'ConvTranspose') return prod(e.inputs[0]) * prod(weight.slice(1));
  if ((e.op === 'MatMul' || e.op === 'Gemm' || e.op === 'FusedMatMul') && weight.length === 2)
    return prod(e.inputs[0]) * weight[1]!;
  return 0;
}

/** The source graph's node a traced (possibly fused or re-laid-out) node came from. */
const sourceName = (traced: string): string =>
  traced
    .replace(/_kernel_time$/, '')
    .replace(/\/.*$/, '')
    .replace(/_nchwc$/, '');

/**
 * The weight an operator ran with: the trace records it where the kernel takes it as an input
 * (a fused Conv is named after its last fused node, so the name finds nothing); otherwise the
 * source graph's initializer, by node name.
 */
function weightOf(
  e: NodeEvent,
  graph: ReadonlyMap<string, { weight?: number[] }>,
): number[] | undefined {
  const traced = e.inputs[1];
  if (traced && traced.length >= 2) return traced;
  return graph.get(sourceName(e.name))?.weight;
}

/** Runs `runs` profiled iterations after one warm-up; returns the traced node events of those. */
async function profile(
  path: string,
  options: SessionOptions,
  feeds: Record<string, TensorData>,
): Promise<{ events: NodeEvent[]; wallMs: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'pastiche-profile-'));
  const model = await Model.load(path, { ...options, profile: join(dir, 'trace') });
  const wallMs: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const start = performance.now();
    await model.run(feeds);
    if (i > 0) wallMs.push(performance.now() - start);
  }
  model.endProfiling();
  await model.dispose();
  const file = readdirSync(dir).find((f) => f.endsWith('.json'));
  if (!file) throw new Error(`ONNX Runtime wrote no trace in ${dir}`);
  type Raw = {
    cat?: string;
    name: string;
    dur: number;
    ts: number;
    args?: Record<string, unknown>;
  };
  const trace = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Raw[];
  rmSync(dir, { recursive: true, force: true });
  // The first model_run is the warm-up: count only node events inside the later ones.
  const spans = trace.filter((e) => e.cat === 'Session' && e.name === 'model_run').slice(1);
  const inRun = (ts: number): boolean => spans.some((s) => ts >= s.ts && ts <= s.ts + s.dur);
  const events = trace
    .filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && inRun(e.ts))
    .map((e) => ({
      name: e.name,
      op: String(e.args?.op_name),
      us: e.dur / spans.length,
      weight: 1 / spans.length,
      inputs: shapes(e.args?.input_type_shape),
      outputs: shapes(e.args?.output_type_shape),
    }));
  return { events, wallMs };
}

/** Block a node belongs to: its module path without indices, and its resolution. */
function blockOf(name: string): string {
  const parts = sourceName(name).split('.');
  const numbered = parts.findIndex((p) => /^\d+$/.test(p));
  // generator.convs.12.Conv → generator.convs.12; res.3.conv1.Conv → res.3; encoder.body.5.x → …
  return numbered >= 0 ? parts.slice(0, numbered + 1).join('.') : parts.slice(0, 2).join('.');
}

const LABELS: [RegExp, string][] = [
  [/^generator\.(conv1|convs)$/, 'StyledConv'],
  [/^generator\.(to_rgb1|to_rgbs)$/, 'ToRGB'],
  [/^res$/, 'ResBlock (extrinsic)'],
  [/^(generator\.)?style$/, 'mapping MLPs'],
];

interface Row {
  us: number;
  conv: number;
  upsample: number;
  blur: number;
  macs: number;
  macUs: number;
}

function report(title: string, source: string, events: NodeEvent[], wallMs: number[]): void {
  const weights = graphWeights(source);
  const blocks = new Set([...weights.keys()].map(blockOf));
  const byOp = new Map<string, Row>();
  const byBlock = new Map<string, Row & { res: number }>();
  const blank = (): Row => ({ us: 0, conv: 0, upsample: 0, blur: 0, macs: 0, macUs: 0 });
  const dense = blank();
  // A block's resolution is the largest spatial side its operators output.
  const resolution = new Map<string, number>();
  for (const e of events) {
    const side = Math.max(0, ...e.outputs.filter((s) => s.length === 4).map((s) => s[3]!));
    const b = blockOf(e.name);
    resolution.set(b, Math.max(resolution.get(b) ?? 0, side));
  }
  for (const e of events) {
    const w = weightOf(e, weights);
    const m = macs(e, w);
    const depthwise = /Conv$/.test(e.op) && w?.length === 4 && w[1] === 1 && w[0]! > 1;
    const b = blockOf(e.name);
    const known = b.includes('.') && blocks.has(b);
    const kind = known
      ? b.replace(/\.\d+$/, '')
      : /^Reorder/.test(e.op)
        ? 'layout reorder'
        : 'glue';
    const label = LABELS.find(([re]) => re.test(kind))?.[1] ?? kind;
    const res = known ? (resolution.get(b) ?? 0) : 0;
    // A stride-2 ConvTranspose outputs 2H+1 (the blur trims it to 2H): an odd side marks the
    // block that upsamples into the next resolution.
    const up = res > 1 && res % 2 === 1;
    const key = res > 0 ? `${label}${up ? ' ↑' : ''} ${up ? res - 1 : res}²` : label;
    const row = byBlock.get(key) ?? { ...blank(), res };
    const op = byOp.get(e.op) ?? blank();
    for (const r of [row, op]) {
      r.us += e.us;
      r.macs += m;
      if (m > 0) r.macUs += e.us;
    }
    if (e.op === 'ConvTranspose') row.upsample += e.us;
    else if (depthwise) row.blur += e.us;
    else if (m > 0 && /Conv$/.test(e.op)) {
      row.conv += e.us;
      dense.macs += m;
      dense.macUs += e.us;
    }
    byBlock.set(key, row);
    byOp.set(e.op, op);
  }
  const total = events.reduce((a, e) => a + e.us, 0);
  const ms = (us: number): string => (us / 1000).toFixed(1).padStart(7);
  // The dense (not depthwise) Conv's rate in this same run is the yardstick: the two cores are
  // shared, so absolute rates move with whatever else runs, but ratios within a run hold.
  const reference = (2 * dense.macs) / (dense.macUs * 1e3);
  // Achieved GFLOP/s over the operators that do the MACs, and as a share of the dense Conv's.
  const rate = (r: Row): string => {
    if (r.macUs === 0) return '     -      -';
    const gflops = (2 * r.macs) / (r.macUs * 1e3);
    return `${gflops.toFixed(0).padStart(6)} ${((100 * gflops) / reference).toFixed(0).padStart(5)}%`;
  };
  const gmac = (r: Row): string => (r.macs / 1e9).toFixed(2).padStart(6);
  const median = [...wallMs].sort((a, b) => a - b)[Math.floor(wallMs.length / 2)]!;
  console.log(
    `\n## ${title}: ${(median / 1000).toFixed(2)} s a run (median of ${wallMs.length}), ` +
      `operators ${(total / 1000).toFixed(0)} ms, ${(sum(events, (e) => macs(e, weightOf(e, weights))) / 1e9).toFixed(1)} GMAC; ` +
      `dense Conv ${reference.toFixed(0)} GFLOP/s`,
  );
  console.log('\nop type                     ms  share   GMAC GFLOP/s  of conv');
  for (const [op, r] of [...byOp].sort((a, b) => b[1].us - a[1].us)) {
    if (r.us < total * 0.002) continue;
    console.log(
      `${op.padEnd(22)}${ms(r.us)} ${((100 * r.us) / total).toFixed(1).padStart(5)}% ${gmac(r)}  ${rate(r)}`,
    );
  }
  console.log(
    '\nblock                       ms  share   GMAC GFLOP/s  of conv  conv ms  ConvT ms  blur ms  rest ms',
  );
  for (const [key, r] of [...byBlock].sort((a, b) => a[1].res - b[1].res || b[1].us - a[1].us)) {
    if (r.us < total * 0.002) continue;
    const rest = r.us - r.conv - r.upsample - r.blur;
    console.log(
      `${key.padEnd(22)}${ms(r.us)} ${((100 * r.us) / total).toFixed(1).padStart(5)}% ${gmac(r)}  ${rate(r)}  ` +
        `${ms(r.conv)}   ${ms(r.upsample)}  ${ms(r.blur)}  ${ms(rest)}`,
    );
  }
}

const sum = <T>(xs: readonly T[], f: (x: T) => number): number => xs.reduce((a, x) => a + f(x), 0);

/** Seeded inputs for every declared port; per-image scalars (truncation, flags) get 1 or 0. */
function feedsFor(model: Model): Record<string, TensorData> {
  const rng = createRng('bench:profile');
  const feeds: Record<string, TensorData> = {};
  for (const port of model.inputs) {
    const dims = port.dims.map((d) => (typeof d === 'number' ? d : 1));
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    if (port.name === 'content_is_w') data.fill(0);
    else if (port.name === 'truncation' || port.name === 'weights') data.fill(1);
    else rng.fillNormal(data);
    feeds[port.name] = { dims, data };
  }
  return feeds;
}

/** The encoder graph production loads: the saved NCHWc form where one exists (see loaded.ts). */
function encoderGraph(): { path: string; options: SessionOptions } {
  const dir = join(modelsDir, '.optimized', `${pack}-encoder`);
  const saved = existsSync(dir)
    ? readdirSync(dir).find((f) => /^encoder-[0-9a-f]+\.onnx$/.test(f))
    : undefined;
  return saved
    ? { path: join(dir, saved), options: { optimization: 'none' } }
    : { path: join(encoderDir, 'encoder.onnx'), options: { optimization: 'extended' } };
}

const generatorPath = join(styleDir, 'generator.onnx');
const probe = await Model.load(generatorPath);
const generatorFeeds = feedsFor(probe);
await probe.dispose();
const gen = await profile(generatorPath, {}, generatorFeeds);
report('generator 1024² (generator.onnx, optimization all)', generatorPath, gen.events, gen.wallMs);

const enc = encoderGraph();
const encProbe = await Model.load(enc.path, enc.options);
const encoderFeeds = feedsFor(encProbe);
await encProbe.dispose();
const encRun = await profile(enc.path, enc.options, encoderFeeds);
report(
  `encoder (${enc.path.includes('.optimized') ? 'saved NCHWc graph' : 'encoder.onnx, extended'})`,
  join(encoderDir, 'encoder.onnx'),
  encRun.events,
  encRun.wallMs,
);

if (args.compare) {
  const variants: [string, SessionOptions][] = [
    ['default (2 threads, all)', {}],
    ['spinning off', { spinning: false }],
    ['optimization extended', { optimization: 'extended' }],
    ['1 thread', { threads: 1 }],
  ];
  const models = [];
  for (const [, options] of variants) models.push(await Model.load(generatorPath, options));
  const times = variants.map((): number[] => []);
  const outputs: Float32Array[] = [];
  for (let round = 0; round <= Number(args.rounds); round++) {
    for (const [i, model] of models.entries()) {
      const start = performance.now();
      const out = await model.run(generatorFeeds);
      if (round > 0) times[i]!.push(performance.now() - start);
      outputs[i] = out.image!.data;
    }
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = med(times[0]!);
  console.log(`\n## generator variants, interleaved, ${args.rounds} rounds`);
  for (const [i, [name]] of variants.entries()) {
    let diff = 0;
    for (let j = 0; j < outputs[0]!.length; j++)
      diff = Math.max(diff, Math.abs(outputs[i]![j]! - outputs[0]![j]!));
    console.log(
      `${name.padEnd(28)} ${(med(times[i]!) / 1000).toFixed(2)} s  ×${(med(times[i]!) / base).toFixed(2)}  max |Δ| ${diff.toExponential(1)}`,
    );
  }
  for (const m of models) await m.dispose();
}
