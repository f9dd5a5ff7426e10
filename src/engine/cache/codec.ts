import { PasticheError } from '../errors.ts';
import type { Alignment, ContentEntry, StyleCodeEntry, StyleCodeMeta } from './latents.ts';

/**
 * The binary layout of cached values, so a 18×512 code costs 36 KiB rather than ~200 KiB of JSON
 * digits and comes back bit for bit (NaN payloads and -0 included).
 *
 * Every value: magic `PSLC`, u8 version, u8 kind, u16 zero; then, by kind (all little-endian):
 * - content: u32 nLatent, u32 styleDim, u32 faceCount, f64 qsize, matrix quad, matrix landmarks,
 *   vector box, f32[nLatent·styleDim] code;
 * - style: string meta (JSON of a flat record), u32 n, f32[n] code;
 * - keys: u32 count, count × (string key, f64 expires).
 *
 * A matrix is u32 rows, u32 cols, f64 data; a vector is u32 n, f64 data; a string is u32 byte
 * length, UTF-8. Alignment numbers are f64 because they are JS numbers: f32 would not round-trip.
 *
 * @example
 * const bytes = encodeContent(entry);
 * decodeContent(bytes).code; // a new Float32Array, bit-identical to entry.code
 */

const MAGIC = [0x50, 0x53, 0x4c, 0x43]; // 'PSLC'
// Largest side of an alignment matrix (68 landmarks); anything larger is not one of ours.
const MAX_MATRIX_SIDE = 1024;
const VERSION = 1;
const KIND = { content: 1, style: 2, keys: 3 } as const;
type Kind = (typeof KIND)[keyof typeof KIND];

/** A stored value that is not in this layout: from a newer version, or damaged. */
export class CacheFormatError extends PasticheError {
  override readonly name = 'CacheFormatError';
  readonly code = 'bad-cache-entry';
}

// Float32 payloads are copied byte for byte (the only way to keep NaN payloads); the layout is
// little-endian, so a big-endian host would read garbage. Every platform Node ships for is LE.
const HOST_IS_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function assertLittleEndian(): void {
  if (!HOST_IS_LE) throw new Error('the latent cache layout needs a little-endian host');
}

class ByteWriter {
  readonly #parts: Uint8Array[] = [];
  #length = 0;

  #push(bytes: Uint8Array): void {
    this.#parts.push(bytes);
    this.#length += bytes.length;
  }

  #view(size: number, write: (view: DataView) => void): void {
    const bytes = new Uint8Array(size);
    write(new DataView(bytes.buffer));
    this.#push(bytes);
  }

  header(kind: Kind): void {
    this.#push(Uint8Array.from([...MAGIC, VERSION, kind, 0, 0]));
  }

  u32(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`expected a u32, got ${value}`);
    }
    this.#view(4, (v) => v.setUint32(0, value, true));
  }

  f64s(values: readonly number[]): void {
    this.#view(values.length * 8, (v) => values.forEach((x, i) => v.setFloat64(i * 8, x, true)));
  }

  vector(values: readonly number[]): void {
    this.u32(values.length);
    this.f64s(values);
  }

  matrix(field: string, rows: readonly (readonly number[])[]): void {
    const cols = rows[0]?.length ?? 0;
    const ragged = rows.findIndex((row) => row.length !== cols);
    if (ragged >= 0) {
      throw new RangeError(
        `${field}: row ${ragged} has ${rows[ragged]?.length} values, not ${cols}`,
      );
    }
    this.u32(rows.length);
    this.u32(cols);
    this.f64s(rows.flat());
  }

  string(value: string): void {
    const bytes = new TextEncoder().encode(value);
    this.u32(bytes.length);
    this.#push(bytes);
  }

  f32s(values: Float32Array): void {
    assertLittleEndian();
    // A copy, so a caller reusing its tensor buffer cannot change what was cached.
    this.#push(new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const part of this.#parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #take(size: number): number {
    if (this.#offset + size > this.#bytes.length) {
      throw new CacheFormatError(
        `truncated: needs ${this.#offset + size} bytes, has ${this.#bytes.length}`,
      );
    }
    const at = this.#offset;
    this.#offset += size;
    return at;
  }

  header(kind: Kind): void {
    const at = this.#take(8);
    const head = this.#bytes.subarray(at, at + 8);
    if (MAGIC.some((b, i) => head[i] !== b)) throw new CacheFormatError('not a cache value');
    if (head[4] !== VERSION)
      throw new CacheFormatError(`layout version ${head[4]}, not ${VERSION}`);
    if (head[5] !== kind) throw new CacheFormatError(`value of kind ${head[5]}, not ${kind}`);
  }

  u32(): number {
    return this.#view.getUint32(this.#take(4), true);
  }

  /** Bytes not read yet: every count is checked against them before anything is allocated. */
  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  f64s(count: number): number[] {
    const at = this.#take(count * 8);
    return Array.from({ length: count }, (_, i) => this.#view.getFloat64(at + i * 8, true));
  }

  vector(): number[] {
    return this.f64s(this.u32());
  }

  matrix(): number[][] {
    const rows = this.u32();
    const cols = this.u32();
    // Alignment matrices are 4×2 and 68×2; the bound keeps `rows` with `cols` = 0 (no bytes
    // at all) from allocating an array of 2^32 empty rows.
    if (rows > MAX_MATRIX_SIDE || cols > MAX_MATRIX_SIDE) {
      throw new CacheFormatError(`matrix of ${rows}×${cols} is not an alignment`);
    }
    const flat = this.f64s(rows * cols);
    return Array.from({ length: rows }, (_, r) => flat.slice(r * cols, (r + 1) * cols));
  }

  /** A count of items that each take at least `itemBytes`, refused if the bytes cannot hold it. */
  count(itemBytes: number): number {
    const n = this.u32();
    if (n * itemBytes > this.remaining) {
      throw new CacheFormatError(`${n} items cannot fit in ${this.remaining} bytes`);
    }
    return n;
  }

  string(): string {
    const length = this.u32();
    const at = this.#take(length);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(
        this.#bytes.subarray(at, at + length),
      );
    } catch {
      throw new CacheFormatError('string is not UTF-8');
    }
  }

  f32s(count: number): Float32Array {
    assertLittleEndian();
    const at = this.#take(count * 4);
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(this.#bytes.subarray(at, at + count * 4));
    return out;
  }

  end(): void {
    if (this.#offset !== this.#bytes.length) {
      throw new CacheFormatError(`${this.#bytes.length - this.#offset} trailing bytes`);
    }
  }
}

/** Encodes a photo's content code and alignment. */
export function encodeContent(entry: ContentEntry): Uint8Array {
  const { code, nLatent, styleDim, alignment } = entry;
  if (code.length !== nLatent * styleDim) {
    throw new RangeError(
      `content code has ${code.length} values, expected nLatent·styleDim = ${nLatent}·${styleDim}`,
    );
  }
  const w = new ByteWriter();
  w.header(KIND.content);
  w.u32(nLatent);
  w.u32(styleDim);
  w.u32(alignment.faceCount);
  w.f64s([alignment.qsize]);
  w.matrix('alignment.quad', alignment.quad);
  w.matrix('alignment.landmarks', alignment.landmarks);
  w.vector(alignment.box);
  w.f32s(code);
  return w.finish();
}

/** Decodes {@link encodeContent}'s bytes; throws {@link CacheFormatError} on anything else. */
export function decodeContent(bytes: Uint8Array): ContentEntry {
  const r = new ByteReader(bytes);
  r.header(KIND.content);
  const nLatent = r.u32();
  const styleDim = r.u32();
  const faceCount = r.u32();
  const [qsize = NaN] = r.f64s(1);
  const quad = r.matrix();
  const landmarks = r.matrix();
  const box = r.vector();
  const alignment: Alignment = { quad, box, landmarks, faceCount, qsize };
  const code = r.f32s(nLatent * styleDim);
  r.end();
  return { code, nLatent, styleDim, alignment };
}

/** Encodes a style code with its provenance (pack, seed, exemplar photo hash…). */
export function encodeStyle(entry: StyleCodeEntry): Uint8Array {
  const w = new ByteWriter();
  w.header(KIND.style);
  w.string(JSON.stringify(entry.meta));
  w.u32(entry.code.length);
  w.f32s(entry.code);
  return w.finish();
}

/** Decodes {@link encodeStyle}'s bytes. */
export function decodeStyle(bytes: Uint8Array): StyleCodeEntry {
  const r = new ByteReader(bytes);
  r.header(KIND.style);
  let meta: unknown;
  try {
    meta = JSON.parse(r.string());
  } catch (error) {
    if (error instanceof CacheFormatError) throw error;
    throw new CacheFormatError('style meta is not JSON');
  }
  if (!isStyleMeta(meta)) throw new CacheFormatError('style meta is not a flat record');
  const code = r.f32s(r.u32());
  r.end();
  return { code, meta };
}

function isStyleMeta(value: unknown): value is StyleCodeMeta {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every((v) => v === null || typeof v !== 'object');
}

/** A cache key and when its entry expires (ms since the epoch). */
export interface IndexedKey {
  key: string;
  expires: number;
}

/** Encodes a list of cache keys (a user's index, in stores without native sorted sets). */
export function encodeKeys(keys: readonly IndexedKey[]): Uint8Array {
  const w = new ByteWriter();
  w.header(KIND.keys);
  w.u32(keys.length);
  for (const { key, expires } of keys) {
    w.string(key);
    w.f64s([expires]);
  }
  return w.finish();
}

/** Decodes {@link encodeKeys}'s bytes. */
export function decodeKeys(bytes: Uint8Array): IndexedKey[] {
  const r = new ByteReader(bytes);
  r.header(KIND.keys);
  // Each key takes at least its u32 length and f64 expiry.
  const keys = Array.from({ length: r.count(12) }, () => {
    const key = r.string();
    const [expires = NaN] = r.f64s(1);
    return { key, expires };
  });
  r.end();
  return keys;
}

/**
 * For stores that only hold strings (Redis through `@keyv/redis`): keyv's `{ value, expires }`
 * as base64 of an f64 expiry (NaN for none) followed by the value's bytes. Base64 costs a third
 * more space than raw bytes, still a fraction of JSON, and survives any string-typed client.
 */
export function toText(data: { value?: unknown; expires?: number | undefined }): string {
  if (!(data.value instanceof Uint8Array)) throw new TypeError('cache values must be bytes');
  const out = new Uint8Array(8 + data.value.length);
  new DataView(out.buffer).setFloat64(0, data.expires ?? NaN, true);
  out.set(data.value, 8);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength).toString('base64');
}

/** Inverse of {@link toText}. */
export function fromText(text: string): { value: Uint8Array; expires: number | undefined } {
  if (typeof text !== 'string') throw new CacheFormatError('stored value is not text');
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length < 8) throw new CacheFormatError('text value too short');
  const expires = new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, true);
  return { value: bytes.subarray(8), expires: Number.isNaN(expires) ? undefined : expires };
}
