import { createHash, randomBytes } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { FileAccessError } from '../errors.ts';
import { GraphBuilder } from '../onnx/builder.ts';
import {
  MANIFEST,
  PACK_FORMAT,
  PackError,
  readManifest,
  type FileEntry,
  type Manifest,
} from './manifest.ts';

/** Temporary pack directories not yet committed or removed, for {@link removePartialPacks}. */
const partials = new Set<string>();

/**
 * Removes every pack still being written, synchronously: for a SIGINT/SIGTERM handler, where
 * `finally` blocks never run because the process is about to exit.
 */
export function removePartialPacks(): void {
  for (const dir of partials) rmSync(dir, { recursive: true, force: true });
  partials.clear();
}

/**
 * Checks a written pack against its manifest without running it: the manifest parses, every
 * file it lists exists with that size, and the raw tables hold exactly what the manifest's
 * dimensions say (noise.bin Σ size², codes.bin exemplars × nLatent × styleDim floats). Run on
 * the temporary directory before it is renamed into place, so a pack whose checkpoint had
 * inconsistent shapes never becomes installed.
 */
export function checkPackFiles(dir: string): Manifest {
  const m = readManifest(dir);
  const sizeOf = (name: string): number => {
    const entry = m.files.find((f) => f.name === name);
    if (!entry) throw new PackError(m.name, `${name} is not in the manifest`);
    const path = join(dir, name);
    if (!existsSync(path)) throw new PackError(m.name, `${name} is missing`);
    const size = statSync(path).size;
    if (size !== entry.size)
      throw new PackError(m.name, `${name} is ${size} bytes, the manifest says ${entry.size}`);
    return size;
  };
  for (const f of m.files) sizeOf(f.name);
  if (m.kind === 'style') {
    const noise = m.noiseSizes.reduce((a, s) => a + s * s, 0) * 4;
    if (sizeOf('noise.bin') !== noise)
      throw new PackError(m.name, `noise.bin is not the ${noise} bytes of noiseSizes`);
    const codes = m.exemplars.length * m.nLatent * m.styleDim * 4;
    if (sizeOf('codes.bin') !== codes)
      throw new PackError(m.name, `codes.bin is not the ${codes} bytes of its exemplar codes`);
  }
  return m;
}

/** sha256 of a file, streamed (checkpoints are up to 1.2 GB). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function describeFile(path: string, name: string): Promise<FileEntry> {
  return { name, size: statSync(path).size, sha256: await sha256File(path) };
}

/**
 * Writes a pack into a hidden temporary directory beside its final place and renames it into
 * place on {@link commit}, so a failed or interrupted import leaves nothing behind and a
 * reader never sees a half-written pack.
 */
export class PackWriter {
  readonly dir: string;
  private done = false;

  constructor(
    readonly root: string,
    readonly name: string,
  ) {
    this.dir = join(root, `.${name}.partial-${randomBytes(4).toString('hex')}`);
    try {
      mkdirSync(root, { recursive: true });
      mkdirSync(this.dir);
    } catch (error) {
      throw FileAccessError.from(error, 'The packs folder', root, 'write');
    }
    partials.add(this.dir);
  }

  /** A graph builder whose large weights stream to `<graph>.onnx.data` in the pack. */
  graph(graph: string): GraphBuilder {
    return new GraphBuilder({ name: graph, weightsFile: join(this.dir, `${graph}.onnx.data`) });
  }

  saveGraph(graph: string, builder: GraphBuilder): void {
    writeFileSync(join(this.dir, `${graph}.onnx`), builder.toBytes());
  }

  writeFile(name: string, data: Uint8Array): void {
    writeFileSync(join(this.dir, name), data);
  }

  /**
   * Checksums every file, writes the manifest, checks the pack ({@link checkPackFiles}, then
   * `verify` when given, e.g. one forward pass of each graph) and only then moves it into place
   * (replacing any): a pack that fails its check is never installed.
   */
  async commit<M extends Manifest>(
    draft: Omit<M, 'files' | 'createdAt' | 'format'>,
    verify?: (dir: string, manifest: Manifest) => Promise<void>,
  ): Promise<M> {
    const files: FileEntry[] = [];
    for (const name of readdirSync(this.dir).sort())
      files.push(await describeFile(join(this.dir, name), name));
    const manifest = {
      format: PACK_FORMAT,
      ...draft,
      createdAt: new Date().toISOString(),
      files,
    } as unknown as M;
    writeFileSync(join(this.dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    const checked = checkPackFiles(this.dir);
    await verify?.(this.dir, checked);
    const target = join(this.root, this.name);
    const old = `${this.dir}.old`;
    if (existsSync(target)) renameSync(target, old);
    renameSync(this.dir, target);
    partials.delete(this.dir);
    rmSync(old, { recursive: true, force: true });
    this.done = true;
    return manifest;
  }

  /** Removes the temporary directory unless the pack was committed. */
  dispose(): void {
    if (!this.done) rmSync(this.dir, { recursive: true, force: true });
    partials.delete(this.dir);
  }
}

/** Runs `body` with a fresh {@link PackWriter}, removing its temporary files if it throws. */
export async function writePack<T>(
  root: string,
  name: string,
  body: (w: PackWriter) => Promise<T>,
): Promise<T> {
  const writer = new PackWriter(root, name);
  try {
    return await body(writer);
  } finally {
    writer.dispose();
  }
}
