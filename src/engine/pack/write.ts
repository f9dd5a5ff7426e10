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
import { GraphBuilder } from '../onnx/builder.ts';
import { MANIFEST, PACK_FORMAT, type FileEntry, type Manifest } from './manifest.ts';

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
    mkdirSync(root, { recursive: true });
    this.dir = join(root, `.${name}.partial-${randomBytes(4).toString('hex')}`);
    mkdirSync(this.dir);
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

  /** Checksums every file, writes the manifest and moves the pack into place (replacing any). */
  async commit<M extends Manifest>(draft: Omit<M, 'files' | 'createdAt' | 'format'>): Promise<M> {
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
    const target = join(this.root, this.name);
    const old = `${this.dir}.old`;
    if (existsSync(target)) renameSync(target, old);
    renameSync(this.dir, target);
    rmSync(old, { recursive: true, force: true });
    this.done = true;
    return manifest;
  }

  /** Removes the temporary directory unless the pack was committed. */
  dispose(): void {
    if (!this.done) rmSync(this.dir, { recursive: true, force: true });
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
