/**
 * A compact copy of a parsed dlib shape model, so an inference host starts without parsing the
 * 99 MB `.dat` again (≈ 1.5 s of CPU): the arrays as raw little-endian bytes, read back as views.
 *
 * Never stale: an entry names its source by size, mtime and a hash of its first and last bytes,
 * and is used only while the source still matches. Never corrupt: it is written to a temporary
 * file and renamed into place, and read back only when its header, every array's length, the
 * indices the predictor follows and a SHA-256 of the whole payload check out. Anything else is a
 * {@link ShapeCacheError}, and the caller parses the source instead.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { PasticheError } from '../errors.ts';
import type { Cascade, ShapeModel } from './shape-predictor.ts';

/** A cache entry that cannot be used; the model is parsed from its source instead. */
export class ShapeCacheError extends PasticheError {
  override readonly name = 'ShapeCacheError';
  readonly code = 'bad-shape-cache';
}

const MAGIC = 'PSTSHAPE';
const FORMAT = 1;
/** Bytes of the source hashed at each end: its header and its tail, cheap to read. */
const EDGE_BYTES = 64 * 1024;

const header = z.strictObject({
  format: z.literal(FORMAT),
  source: z.string(),
  payloadSha256: z.string().regex(/^[0-9a-f]{64}$/),
  shapeLen: z.number().int().positive(),
  cascades: z.array(
    z.strictObject({
      numTrees: z.number().int().nonnegative(),
      numSplits: z.number().int().nonnegative(),
      numAnchors: z.number().int().nonnegative(),
    }),
  ),
});
type Header = z.infer<typeof header>;

/**
 * The default cache folder: the user's own under the OS temp dir (`TMPDIR` moves it). Not a
 * setting of its own: the engine host that would pass one in is another module's.
 */
export function defaultShapeCacheDir(): string {
  return join(os.tmpdir(), `pastiche-${process.getuid?.() ?? 'user'}`);
}

/** What identifies the source's content now: size, mtime, and its first and last bytes. */
export async function sourceKey(file: string): Promise<string> {
  const handle = await fs.open(file, 'r');
  try {
    const { size, mtimeMs } = await handle.stat();
    const hash = createHash('sha256');
    const edge = Buffer.alloc(Math.min(EDGE_BYTES, size));
    await handle.read(edge, 0, edge.length, 0);
    hash.update(edge);
    await handle.read(edge, 0, edge.length, size - edge.length);
    hash.update(edge);
    return `${size}:${mtimeMs}:${hash.digest('hex')}`;
  } finally {
    await handle.close();
  }
}

/** The entry's path for `file` in `dir`: one per source path, replaced when the source changes. */
export function entryPath(dir: string, file: string): string {
  const name = createHash('sha256').update(file).digest('hex').slice(0, 32);
  return join(dir, `shape-${name}.bin`);
}

/** The arrays in the order they are stored. */
function arraysOf(model: ShapeModel): (Float32Array | Uint16Array)[] {
  return [
    model.initialShape,
    ...model.cascades.flatMap((c) => [c.splitIdx, c.thresholds, c.leaves, c.anchors, c.deltas]),
  ];
}

const padded = (n: number): number => Math.ceil(n / 4) * 4;

/** The entry's bytes: magic, header length, header JSON, then each array at a 4-byte boundary. */
export function encodeShapeModel(model: ShapeModel, source: string): Buffer {
  const arrays = arraysOf(model);
  const payloadLength = arrays.reduce((n, a) => n + padded(a.byteLength), 0);
  const payload = Buffer.alloc(payloadLength);
  let at = 0;
  for (const a of arrays) {
    payload.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += padded(a.byteLength);
  }
  const head: Header = {
    format: FORMAT,
    source,
    payloadSha256: createHash('sha256').update(payload).digest('hex'),
    shapeLen: model.initialShape.length,
    cascades: model.cascades.map((c) => ({
      numTrees: c.numTrees,
      numSplits: c.numSplits,
      numAnchors: c.anchors.length,
    })),
  };
  const json = Buffer.from(JSON.stringify(head));
  const prefix = Buffer.alloc(padded(MAGIC.length + 4 + json.length));
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(json.length, MAGIC.length);
  json.copy(prefix, MAGIC.length + 4);
  return Buffer.concat([prefix, payload]);
}

/** The model in `bytes` if it is a sound entry for `source`, else a {@link ShapeCacheError}. */
export function decodeShapeModel(bytes: Uint8Array, source: string): ShapeModel {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new ShapeCacheError('the shape cache layout needs a little-endian host');
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < MAGIC.length + 4 || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) {
    throw new ShapeCacheError('not a shape cache entry');
  }
  const jsonLength = buf.readUInt32LE(MAGIC.length);
  const start = padded(MAGIC.length + 4 + jsonLength);
  if (start > buf.length) throw new ShapeCacheError('truncated header');
  let head: Header;
  try {
    const json = buf.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + jsonLength);
    head = header.parse(JSON.parse(json));
  } catch (error) {
    throw new ShapeCacheError(`unreadable header: ${String(error)}`);
  }
  if (head.source !== source) throw new ShapeCacheError('made from another version of the file');
  const payload = buf.subarray(start);
  if (createHash('sha256').update(payload).digest('hex') !== head.payloadSha256) {
    throw new ShapeCacheError('payload does not match its checksum');
  }
  // Views need 4-byte aligned offsets: copied once where the read buffer is not aligned.
  const data = payload.byteOffset % 4 === 0 ? payload : Buffer.from(payload);
  let at = 0;
  const take = <T extends Float32Array | Uint16Array>(
    Type: { new (b: ArrayBufferLike, o: number, n: number): T; BYTES_PER_ELEMENT: number },
    length: number,
  ): T => {
    const byteLength = length * Type.BYTES_PER_ELEMENT;
    if (at + byteLength > data.length) throw new ShapeCacheError('truncated payload');
    const view = new Type(data.buffer, data.byteOffset + at, length);
    at += padded(byteLength);
    return view;
  };
  const { shapeLen } = head;
  if (shapeLen % 2 !== 0) throw new ShapeCacheError('odd shape length');
  const initialShape = take(Float32Array, shapeLen);
  const cascades: Cascade[] = head.cascades.map(({ numTrees, numSplits, numAnchors }) => {
    const cascade: Cascade = {
      numTrees,
      numSplits,
      splitIdx: take(Uint16Array, numTrees * numSplits * 2),
      thresholds: take(Float32Array, numTrees * numSplits),
      leaves: take(Float32Array, numTrees * (numSplits + 1) * shapeLen),
      anchors: take(Uint16Array, numAnchors),
      deltas: take(Float32Array, numAnchors * 2),
    };
    // The predictor indexes features and the shape with these: out of range would read junk.
    if (cascade.splitIdx.some((i) => i >= numAnchors)) {
      throw new ShapeCacheError('a split names a feature that does not exist');
    }
    if (cascade.anchors.some((i) => i >= shapeLen / 2)) {
      throw new ShapeCacheError('an anchor names a landmark that does not exist');
    }
    return cascade;
  });
  if (at !== data.length) throw new ShapeCacheError('payload longer than its arrays');
  return { initialShape, cascades };
}

/**
 * The cached model for `file` (keyed by `source`, its {@link sourceKey}), or a
 * {@link ShapeCacheError}: missing, stale, corrupt, or a folder not the user's own.
 */
export async function readShapeCache(
  dir: string,
  file: string,
  source: string,
): Promise<ShapeModel> {
  await assertPrivateDir(dir);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(entryPath(dir, file));
  } catch (error) {
    throw new ShapeCacheError(
      `no entry: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  return decodeShapeModel(bytes, source);
}

/** Writes the entry atomically (a temporary file renamed into place). */
export async function writeShapeCache(
  dir: string,
  file: string,
  source: string,
  model: ShapeModel,
): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await assertPrivateDir(dir);
  const target = entryPath(dir, file);
  const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.writeFile(temp, encodeShapeModel(model, source), { mode: 0o600 });
    await fs.rename(temp, target);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

/** The OS temp dir is shared: another user's folder (or one they may write in) is not trusted. */
async function assertPrivateDir(dir: string): Promise<void> {
  let stat;
  try {
    stat = await fs.lstat(dir);
  } catch (error) {
    throw new ShapeCacheError(`no cache folder: ${(error as NodeJS.ErrnoException).code}`);
  }
  const uid = process.getuid?.();
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) {
    throw new ShapeCacheError(`${dir} is not a folder only this user can write`);
  }
}
