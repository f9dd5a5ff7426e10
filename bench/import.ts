/**
 * Importer benchmark on full-size checkpoints in the official file format.
 *
 *   node --import tsx bench/import.ts [--out DIR] [--keep]
 *
 * The real release cannot be downloaded here, so this writes the 1024 demo weights (same keys,
 * shapes and order as the release) as `encoder.pt`, `cartoon/generator.pt`, `cartoon/sampler.pt`
 * and `cartoon/exstyle_code.npy` the way torch.save and np.save lay them out, then times
 * `pastiche models import` and `models verify` on them as child processes, so the numbers are
 * the CLI's own cost and exclude this script's setup. The requirement checked: peak RSS of the
 * import ≤ 2× the largest input file.
 *
 * Files go to a fresh directory under DIR (default: the OS temp dir), ~1.5 GB of checkpoints
 * plus ~1.5 GB of packs, removed at the end unless --keep.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { numel, type LazyTensor, type StateDict } from '../src/engine/checkpoint/tensor.ts';
import { demoCheckpoints } from '../src/engine/families/dualstylegan/demo-weights.ts';
import {
  objectNpy,
  pickledArray,
  rootDictPickle,
  scalarDictValue,
  stateDictValue,
  tensorValue,
  writeZip,
  type PyScalar,
  type TensorSpec,
  type ZipFileEntry,
} from '../test/checkpoint/helpers.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'bin/pastiche.js');
const RESULTS = path.join(ROOT, 'bench/results/import.json');
const MiB = 1024 * 1024;
const MAX_RSS_RATIO = 2;
const STYLE = 'cartoon';
// The release's cartoon exstyle_code.npy holds one code per training exemplar.
const CARTOON_EXEMPLARS = 317;

// ---------------------------------------------------------------------------------------------
// Writing the checkpoints

/**
 * Gives each tensor its own storage, keyed '0', '1', … in pickling order as torch.save does,
 * and keeps the tensors so their bytes can be written as the zip's `data/<key>` records.
 */
class Storages {
  readonly tensors: LazyTensor[] = [];

  spec(key: string, tensor: LazyTensor): TensorSpec {
    const storage = String(this.tensors.length);
    this.tensors.push(tensor);
    const stride = tensor.shape.map((_, i) => numel(tensor.shape.slice(i + 1)));
    const type = tensor.dtype === 'int64' ? 'LongStorage' : 'FloatStorage';
    return { key, storage, type, numel: numel(tensor.shape), size: tensor.shape, stride };
  }

  specs(dict: StateDict): TensorSpec[] {
    return [...dict].map(([key, tensor]) => this.spec(key, tensor));
  }
}

function tensorBytes(t: LazyTensor): Uint8Array {
  const values = t.float32();
  if (t.dtype === 'float32') return new Uint8Array(values.buffer);
  // BatchNorm's num_batches_tracked: an int64 count, exact in float32.
  if (t.dtype === 'int64') return new Uint8Array(BigInt64Array.from(values, BigInt).buffer);
  throw new Error(`no writer for ${t.dtype} tensors`);
}

/**
 * A torch.save zip: `<stem>/data.pkl`, one record per storage, `<stem>/version`. Storages are
 * materialised one at a time as writeZip pulls them, so the 1 GB encoder never sits in memory.
 */
function writeTorchZip(file: string, pickle: Uint8Array, storages: Storages): void {
  const stem = path.basename(file, '.pt');
  function* entries(): Generator<ZipFileEntry> {
    yield { name: `${stem}/data.pkl`, data: pickle };
    for (const [i, tensor] of storages.tensors.entries())
      yield { name: `${stem}/data/${i}`, data: tensorBytes(tensor) };
    yield { name: `${stem}/version`, data: new TextEncoder().encode('3\n') };
  }
  writeZip(file, entries());
}

/** The demo's opts Map narrowed to the scalars a pickled dict can hold. */
function scalars(map: ReadonlyMap<string, unknown>): Record<string, PyScalar> {
  const out: Record<string, PyScalar> = {};
  for (const [key, v] of map) {
    if (v !== null && !['string', 'number', 'boolean'].includes(typeof v))
      throw new Error(`opts.${key} is not a scalar`);
    out[key] = v as PyScalar;
  }
  return out;
}

// pSp saves `vars(opts)`, training options included; a few of them, so the reader has to skip
// entries it does not look at, as with the real file.
const TRAINING_OPTS: Record<string, PyScalar> = {
  exp_dir: 'experiment/ffhq_encode',
  batch_size: 8,
  learning_rate: 0.0001,
  optim_name: 'ranger',
  train_decoder: false,
  lpips_lambda: 0.8,
  id_lambda: 0.1,
  max_steps: 500000,
  stylegan_weights: 'pretrained_models/stylegan2-ffhq-config-f.pt',
  checkpoint_path: null,
  device: 'cuda:0',
};

/** Writes the release layout into `dir`; returns each file's path relative to `dir`. */
function writeRelease(dir: string): string[] {
  const demo = demoCheckpoints({ size: 1024, exemplars: CARTOON_EXEMPLARS });
  fs.mkdirSync(path.join(dir, STYLE), { recursive: true });

  // pSp's state dict also holds the FFHQ decoder it trained against; the importer reads its
  // mapping network (`decoder.style.*`), which the demo shares with the generator, as
  // demo-packs.ts does. The rest of the decoder (~120 MB in the release) is never read.
  const encoderDict = new Map(demo.encoder.stateDict);
  for (const [key, tensor] of demo.generator) {
    if (key.startsWith('generator.style.'))
      encoderDict.set(`decoder.${key.slice('generator.'.length)}`, tensor);
  }
  const encoder = new Storages();
  // Property order is pickling order: state_dict's storages first, then latent_avg's.
  const encoderPickle = rootDictPickle({
    state_dict: stateDictValue(encoder.specs(encoderDict)),
    opts: scalarDictValue({ ...TRAINING_OPTS, ...scalars(demo.encoder.opts) }),
    latent_avg: tensorValue(encoder.spec('latent_avg', demo.encoder.latentAvg)),
  });
  writeTorchZip(path.join(dir, 'encoder.pt'), encoderPickle, encoder);

  const generator = new Storages();
  const generatorPickle = rootDictPickle({
    g_ema: stateDictValue(generator.specs(demo.generator)),
  });
  writeTorchZip(path.join(dir, STYLE, 'generator.pt'), generatorPickle, generator);

  const sampler = new Storages();
  const samplerPickle = rootDictPickle({
    color: stateDictValue(sampler.specs(demo.sampler.color)),
    structure: stateDictValue(sampler.specs(demo.sampler.structure)),
  });
  writeTorchZip(path.join(dir, STYLE, 'sampler.pt'), samplerPickle, sampler);

  objectNpy(path.join(dir, STYLE, 'exstyle_code.npy'), (w) => {
    w.emptyDict().mark();
    for (const [name, code] of demo.exstyleCodes) {
      w.str(name);
      pickledArray(w, code.shape, new Uint8Array(code.float32().buffer));
    }
    w.setitems();
  });
  return [
    'encoder.pt',
    ...['generator.pt', 'sampler.pt', 'exstyle_code.npy'].map((f) => `${STYLE}/${f}`),
  ];
}

// ---------------------------------------------------------------------------------------------
// Measuring the CLI

interface Measured {
  wallS: number;
  /** null when neither GNU time nor the CLI reported it. */
  peakRssBytes: number | null;
  stdout: string;
}

/** GNU time, not BSD's (whose -v is an error): probe it rather than trust the path. */
function hasGnuTime(): boolean {
  const probe = spawnSync('/usr/bin/time', ['-v', 'true'], { encoding: 'utf8' });
  return probe.status === 0 && probe.stderr.includes('Maximum resident set size');
}

/** "1:02:03", "2:03.45" → seconds. */
function clockSeconds(text: string): number {
  return text.split(':').reduce((total, part) => total * 60 + Number(part), 0);
}

/** Runs `pastiche <args>`, echoing its stdout, under GNU time when `gnuTime`. */
async function runCli(args: string[], gnuTime: boolean): Promise<Measured> {
  const command = gnuTime
    ? ['/usr/bin/time', '-v', process.execPath, CLI]
    : [process.execPath, CLI];
  const [exe = '', ...rest] = [...command, ...args];
  const start = performance.now();
  const child = spawn(exe, rest, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    process.stdout.write(chunk.replace(/^(?=.)/gm, '    '));
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const ownWallS = (performance.now() - start) / 1000;
  if (code !== 0) {
    process.stderr.write(stderr);
    throw new Error(`pastiche ${args.join(' ')} exited with ${code}`);
  }
  if (gnuTime) {
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
    const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(stderr)?.[1];
    if (rss === undefined || wall === undefined)
      throw new Error(`unexpected time -v output:\n${stderr}`);
    return { wallS: clockSeconds(wall), peakRssBytes: Number(rss) * 1024, stdout };
  }
  return { wallS: ownWallS, peakRssBytes: null, stdout };
}

/** The CLI's own `imported in X s, peak RSS Y MB` line (MB there is KiB / 1024). */
function cliReport(stdout: string): { wallS: number; peakRssBytes: number } | null {
  const m = /imported in ([\d.]+) s, peak RSS (\d+) MB/.exec(stdout);
  return m ? { wallS: Number(m[1]), peakRssBytes: Number(m[2]) * MiB } : null;
}

// ---------------------------------------------------------------------------------------------

const mib = (bytes: number | null): string =>
  bytes === null ? 'n/a' : `${(bytes / MiB).toFixed(0)} MiB`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, keep: { type: 'boolean', default: false } },
  });
  const parent = values.out ?? os.tmpdir();
  fs.mkdirSync(parent, { recursive: true });
  const dir = fs.mkdtempSync(path.join(parent, 'pastiche-import-bench-'));
  const cleanup = (): void => {
    if (values.keep) console.log(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  };
  // Ctrl-C would otherwise skip `finally` and leave ~3 GB behind.
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });

  try {
    console.log(`writing full-size checkpoints into ${dir} …`);
    const setupStart = performance.now();
    const inputs = writeRelease(dir).map((file) => ({
      file,
      bytes: fs.statSync(path.join(dir, file)).size,
    }));
    console.log(`  written in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`);

    const gnuTime = hasGnuTime();
    const models = path.join(dir, 'models');
    console.log('pastiche models import …');
    const imported = await runCli(['models', 'import', dir, '--out', models], gnuTime);
    const cli = cliReport(imported.stdout);
    console.log('pastiche models verify …');
    const verified = await runCli(['models', 'verify', 'encoder', STYLE, '--dir', models], gnuTime);

    const importResult = gnuTime ? imported : (cli ?? imported);
    const largest = Math.max(...inputs.map((i) => i.bytes));
    const ratio = importResult.peakRssBytes === null ? null : importResult.peakRssBytes / largest;
    const pass = ratio !== null && ratio <= MAX_RSS_RATIO;

    const rows = [
      ...inputs.map((i) => [i.file, mib(i.bytes)]),
      ['import wall time', `${importResult.wallS.toFixed(1)} s`],
      ['import peak RSS', mib(importResult.peakRssBytes)],
      [
        'peak RSS / largest input',
        ratio === null
          ? 'n/a'
          : `${ratio.toFixed(2)}× (≤ ${MAX_RSS_RATIO}×: ${pass ? 'pass' : 'FAIL'})`,
      ],
      ['verify wall time', `${verified.wallS.toFixed(1)} s`],
      ['verify peak RSS', mib(verified.peakRssBytes)],
    ];
    const width = Math.max(...rows.map(([label = '']) => label.length));
    console.log(`\nmeasured by ${gnuTime ? '/usr/bin/time -v' : "the CLI's own report"}`);
    for (const [label = '', value = ''] of rows) console.log(`${label.padEnd(width)}  ${value}`);

    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    const result = {
      date: new Date().toISOString(),
      machine: {
        node: process.version,
        platform: `${os.platform()} ${os.arch()}`,
        cpus: os.cpus().length,
        memoryBytes: os.totalmem(),
      },
      measuredBy: gnuTime ? '/usr/bin/time -v' : 'cli',
      inputs,
      import: { wallS: importResult.wallS, peakRssBytes: importResult.peakRssBytes, cli },
      verify: { wallS: verified.wallS, peakRssBytes: verified.peakRssBytes },
      peakRssOverLargestInput: ratio,
      maxRatio: MAX_RSS_RATIO,
      pass,
    };
    fs.writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nwrote ${path.relative(ROOT, RESULTS)}`);
    if (!pass) process.exitCode = 1;
  } finally {
    cleanup();
  }
}

await main();
