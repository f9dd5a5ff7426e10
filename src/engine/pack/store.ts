/** Installed packs: listing, opening, and `models verify`. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PREVIEW_OUTPUT } from '../models/preview.ts';
import { createRng } from '../random.ts';
import type { Model, TensorData } from '../runtime/session.ts';
import { MANIFEST, PackError, readManifest, type Manifest } from './manifest.ts';
import { storedNoise } from './noise.ts';
import { sha256File } from './write.ts';

export interface InstalledPack {
  dir: string;
  manifest: Manifest;
}

/** Every pack under `root` (directories with a manifest; partial writes are hidden). */
export function listPacks(root: string): InstalledPack[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter(
      (d) => d.isDirectory() && !d.name.startsWith('.') && existsSync(join(root, d.name, MANIFEST)),
    )
    .map((d) => ({ dir: join(root, d.name), manifest: readManifest(join(root, d.name)) }))
    .sort((a, b) => a.manifest.name.localeCompare(b.manifest.name));
}

export function openPack(root: string, name: string): InstalledPack {
  const dir = join(root, name);
  if (!existsSync(join(dir, MANIFEST))) throw new PackError(name, `not installed in ${root}`);
  return { dir, manifest: readManifest(dir) };
}

function normal(dims: number[], seed: string): TensorData {
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  return { dims, data: createRng(seed).fillNormal(data) };
}

function checkOutput(
  pack: string,
  graph: string,
  name: string,
  t: TensorData | undefined,
  dims: number[],
): void {
  if (!t) throw new PackError(pack, `${graph} has no output ${name}`);
  if (t.dims.join(',') !== dims.join(',')) {
    throw new PackError(
      pack,
      `${graph} output ${name} is [${t.dims.join(',')}], expected [${dims.join(',')}]`,
    );
  }
  if (!t.data.every(Number.isFinite))
    throw new PackError(pack, `${graph} output ${name} is not finite`);
}

/**
 * The runtime loads onnxruntime-node (most of a start-up): only verifying runs a graph, so
 * listing and opening packs (`pastiche models list`) never loads it.
 */
const onnxRuntime = () => import('../runtime/session.ts');

async function forward(
  pack: InstalledPack,
  graph: string,
  feeds: Record<string, TensorData>,
  expected: Record<string, number[]>,
): Promise<void> {
  const model = await (await onnxRuntime()).Model.load(join(pack.dir, `${graph}.onnx`));
  try {
    const out = await model.run(feeds);
    for (const [name, dims] of Object.entries(expected)) {
      checkOutput(pack.manifest.name, graph, name, out[name], dims);
    }
  } finally {
    await model.dispose();
  }
}

/** The generator's halves (see models/preview.ts): the head's preview, then the tail's image. */
async function previewHalves(
  pack: InstalledPack,
  side: number,
  feeds: Record<string, TensorData>,
): Promise<void> {
  const { Model } = await onnxRuntime();
  const [head, tail] = await Promise.all(
    ['generator-head', 'generator-tail'].map((g) => Model.load(join(pack.dir, `${g}.onnx`))),
  );
  try {
    const pick = (model: Model): Record<string, TensorData> =>
      Object.fromEntries(model.inputs.map((p) => [p.name, feeds[p.name]!]).filter(([, t]) => t));
    const { [PREVIEW_OUTPUT]: preview, ...handover } = await head!.run(pick(head!));
    checkOutput(pack.manifest.name, 'generator-head', PREVIEW_OUTPUT, preview, [1, 3, side, side]);
    const { image } = await tail!.run({ ...pick(tail!), ...handover });
    const size = pack.manifest.kind === 'style' ? pack.manifest.size : 0;
    checkOutput(pack.manifest.name, 'generator-tail', 'image', image, [1, 3, size, size]);
  } finally {
    await Promise.all([head!.dispose(), tail!.dispose()]);
  }
}

export interface VerifyReport {
  files: number;
  graphs: string[];
}

/**
 * Re-checks every file's size and sha256 against the manifest, then runs each graph once on
 * random inputs and checks the output shapes and that every value is finite.
 */
export async function verifyPack(pack: InstalledPack): Promise<VerifyReport> {
  const { manifest: m } = pack;
  for (const f of m.files) {
    const path = join(pack.dir, f.name);
    if (!existsSync(path)) throw new PackError(m.name, `${f.name} is missing`);
    if ((await sha256File(path)) !== f.sha256)
      throw new PackError(m.name, `${f.name} does not match its checksum`);
  }
  const { nLatent: n, styleDim: d } = m;
  const graphs: string[] = [];
  const run = async (
    graph: string,
    feeds: Record<string, TensorData>,
    expected: Record<string, number[]>,
  ) => {
    await forward(pack, graph, feeds, expected);
    graphs.push(graph);
  };
  if (m.kind === 'encoder') {
    await run(
      'encoder',
      { image: normal([1, 3, m.inputSize, m.inputSize], 'verify') },
      { codes: [1, n, d] },
    );
    await run('mapping', { z: normal([2, d], 'verify') }, { w: [2, d] });
  } else {
    const weights = { dims: [1, n], data: new Float32Array(n).fill(0.5) };
    const truncation = { dims: [1], data: Float32Array.of(m.defaults.truncation) };
    const code = {
      content: normal([1, n, d], 'content'),
      exstyle: normal([1, n, d], 'exstyle'),
      weights,
      truncation,
      // Packs of format 1 predate the W+ content input.
      ...(m.format >= 2 && { content_is_w: { dims: [1], data: Float32Array.of(0) } }),
    };
    await run(
      'generator',
      { ...code, ...storedNoise(pack.dir, m.noiseSizes) },
      { image: [1, 3, m.size, m.size] },
    );
    if (m.previewSize !== undefined) {
      await previewHalves(pack, m.previewSize, { ...code, ...storedNoise(pack.dir, m.noiseSizes) });
      graphs.push('generator-head', 'generator-tail');
    }
    if (m.ownMapping) await run('mapping', { z: normal([2, d], 'verify') }, { w: [2, d] });
    if (m.hasSampler && m.samplerZDim) {
      await run(
        'sampler',
        { z: normal([1, m.samplerZDim], 'verify') },
        { structure: [1, m.nStructure, d], color: [1, n - m.nStructure, d] },
      );
    }
  }
  return { files: m.files.length, graphs };
}
