import { inflateRawSync } from 'node:zlib';
import { CheckpointError } from './errors.ts';
import { readAt } from './io.ts';

// A hand-written reader rather than yauzl: yauzl is callback/stream based, while tensors here
// must be read synchronously by byte offset from an fd we keep open, and for that we need each
// entry's local-header data offset ourselves anyway. What remains — the end records and the
// central directory, ZIP64 included — is about as long as the glue yauzl would need.

/** One entry of the central directory. */
export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate. */
  readonly method: number;
  readonly flags: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;
// The released checkpoints have a few hundred entries (a ~50 KB directory); this bounds what a
// corrupt end record can make us allocate.
const MAX_DIRECTORY_BYTES = 256 * 1024 * 1024;

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

function u64(view: DataView, at: number, file: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CheckpointError('bad-format', file, `zip field ${v} is out of range`);
  }
  return Number(v);
}

/** True when the first bytes are a zip local-file header ("PK\3\4"). */
export function looksLikeZip(head: Uint8Array): boolean {
  return (
    head.length >= 4 &&
    new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true) === SIG_LOCAL
  );
}

export class ZipArchive {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  private readonly dataOffsets = new Map<string, number>();

  /** Reads the central directory of the zip open at `fd` (`size` bytes). */
  constructor(
    private readonly fd: number,
    readonly file: string,
    readonly size: number,
  ) {
    this.entries = this.readDirectory();
  }

  private readDirectory(): Map<string, ZipEntry> {
    const { fd, file, size } = this;
    const tailLength = Math.min(size, EOCD_SIZE + MAX_COMMENT + 20);
    const tail = readAt(fd, file, size - tailLength, tailLength);
    const tv = new DataView(tail.buffer);
    let eocd = -1;
    // Scan backwards, accepting only a record whose comment reaches exactly to the end of the
    // file, so the signature's bytes occurring inside a comment or data cannot fool us.
    for (let i = tailLength - EOCD_SIZE; i >= 0; i--) {
      if (
        tv.getUint32(i, true) === SIG_EOCD &&
        i + EOCD_SIZE + tv.getUint16(i + 20, true) === tailLength
      ) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) {
      const head = readAt(fd, file, 0, Math.min(4, size));
      if (looksLikeZip(head)) {
        throw new CheckpointError(
          'truncated',
          file,
          'zip archive has no end record (incomplete download?)',
        );
      }
      throw new CheckpointError('bad-magic', file, 'not a zip archive');
    }
    let count = tv.getUint16(eocd + 10, true);
    let dirSize = tv.getUint32(eocd + 12, true);
    let dirOffset = tv.getUint32(eocd + 16, true);
    const eocdPosition = size - tailLength + eocd;
    if (count === U16_MAX || dirSize === U32_MAX || dirOffset === U32_MAX) {
      // ZIP64: the real values live in a second end record that a locator just before points to.
      const loc = eocd - 20;
      if (loc < 0 || tv.getUint32(loc, true) !== SIG_ZIP64_LOCATOR) {
        throw new CheckpointError('bad-format', file, 'ZIP64 end record locator is missing');
      }
      const recordAt = u64(tv, loc + 8, file);
      if (recordAt + 56 > eocdPosition) {
        throw new CheckpointError('bad-format', file, 'ZIP64 end record points outside the file');
      }
      const record = new DataView(readAt(fd, file, recordAt, 56).buffer);
      if (record.getUint32(0, true) !== SIG_ZIP64_EOCD) {
        throw new CheckpointError('bad-format', file, 'ZIP64 end record signature is wrong');
      }
      count = u64(record, 32, file);
      dirSize = u64(record, 40, file);
      dirOffset = u64(record, 48, file);
    }
    if (dirSize > MAX_DIRECTORY_BYTES || count > dirSize / 46) {
      throw new CheckpointError(
        'bad-format',
        file,
        `zip directory of ${count} entries in ${dirSize} bytes`,
      );
    }
    if (dirOffset + dirSize > eocdPosition) {
      throw new CheckpointError('truncated', file, 'zip central directory lies outside the file');
    }
    return this.parseDirectory(readAt(fd, file, dirOffset, dirSize), count);
  }

  private parseDirectory(dir: Uint8Array, count: number): Map<string, ZipEntry> {
    const { file } = this;
    const dv = new DataView(dir.buffer);
    const entries = new Map<string, ZipEntry>();
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (p + 46 > dir.length || dv.getUint32(p, true) !== SIG_CENTRAL) {
        throw new CheckpointError('bad-format', file, `zip directory entry ${n} is corrupt`);
      }
      const flags = dv.getUint16(p + 8, true);
      const nameLength = dv.getUint16(p + 28, true);
      const extraLength = dv.getUint16(p + 30, true);
      const commentLength = dv.getUint16(p + 32, true);
      const end = p + 46 + nameLength + extraLength + commentLength;
      if (end > dir.length) {
        throw new CheckpointError('bad-format', file, `zip directory entry ${n} overruns`);
      }
      const rawName = dir.subarray(p + 46, p + 46 + nameLength);
      // Bit 11 marks UTF-8 names; otherwise the spec says CP437, for which latin1 is close enough
      // for the ASCII names torch writes.
      const name = (flags & 0x800 ? utf8 : latin1).decode(rawName);
      let uncompressedSize = dv.getUint32(p + 24, true);
      let compressedSize = dv.getUint32(p + 20, true);
      let localHeaderOffset = dv.getUint32(p + 42, true);
      // ZIP64 extra field: only the values that overflowed 32 bits are present, in this order.
      let e = p + 46 + nameLength;
      const extraEnd = e + extraLength;
      while (e + 4 <= extraEnd) {
        const id = dv.getUint16(e, true);
        const length = dv.getUint16(e + 2, true);
        // A record claiming more bytes than the extra field has would read its neighbours.
        if (e + 4 + length > extraEnd) {
          throw new CheckpointError('bad-format', file, `extra field of ${name} overruns`);
        }
        if (id === 0x0001) {
          let q = e + 4;
          const take = (): number => {
            if (q + 8 > e + 4 + length) {
              throw new CheckpointError('bad-format', file, `ZIP64 field of ${name} is short`);
            }
            q += 8;
            return u64(dv, q - 8, file);
          };
          if (uncompressedSize === U32_MAX) uncompressedSize = take();
          if (compressedSize === U32_MAX) compressedSize = take();
          if (localHeaderOffset === U32_MAX) localHeaderOffset = take();
        }
        e += 4 + length;
      }
      entries.set(name, {
        name,
        method: dv.getUint16(p + 10, true),
        flags,
        compressedSize,
        uncompressedSize,
        localHeaderOffset,
      });
      p = end;
    }
    return entries;
  }

  /**
   * Absolute offset of an entry's bytes. The local header's extra field can differ from the
   * central one (torch pads it so that tensor data is 64-byte aligned), so it has to be read.
   */
  dataOffset(entry: ZipEntry): number {
    const known = this.dataOffsets.get(entry.name);
    if (known !== undefined) return known;
    const { fd, file, size } = this;
    if (entry.localHeaderOffset + 30 > size) {
      throw new CheckpointError(
        'truncated',
        file,
        `zip entry ${entry.name} lies past the end of the file`,
      );
    }
    const header = new DataView(readAt(fd, file, entry.localHeaderOffset, 30).buffer);
    if (header.getUint32(0, true) !== SIG_LOCAL) {
      throw new CheckpointError('bad-format', file, `zip entry ${entry.name} has no local header`);
    }
    const offset =
      entry.localHeaderOffset + 30 + header.getUint16(26, true) + header.getUint16(28, true);
    if (offset + entry.compressedSize > size) {
      throw new CheckpointError(
        'truncated',
        file,
        `zip entry ${entry.name} runs past the end of the file`,
      );
    }
    this.dataOffsets.set(entry.name, offset);
    return offset;
  }

  /**
   * Offset of a stored (uncompressed) entry, for reading slices of it in place. Compressed
   * tensor data cannot be sliced lazily, so it is refused rather than inflated whole.
   */
  storedDataOffset(entry: ZipEntry): number {
    if (entry.method !== 0 || entry.compressedSize !== entry.uncompressedSize) {
      throw new CheckpointError(
        'unsupported',
        this.file,
        `zip entry ${entry.name} is compressed (method ${entry.method}); tensor data must be stored`,
      );
    }
    if (entry.flags & 1) {
      throw new CheckpointError('unsupported', this.file, `zip entry ${entry.name} is encrypted`);
    }
    return this.dataOffset(entry);
  }

  /** Reads a whole small entry (a pickle), inflating it if it was deflated. */
  readEntry(entry: ZipEntry, maxBytes: number): Uint8Array {
    const { file } = this;
    if (entry.uncompressedSize > maxBytes || entry.compressedSize > maxBytes) {
      throw new CheckpointError(
        'unsupported',
        file,
        `zip entry ${entry.name} is larger than ${maxBytes} bytes`,
      );
    }
    if (entry.flags & 1) {
      throw new CheckpointError('unsupported', file, `zip entry ${entry.name} is encrypted`);
    }
    const raw = readAt(this.fd, file, this.dataOffset(entry), entry.compressedSize);
    if (entry.method === 0) return raw;
    if (entry.method !== 8) {
      throw new CheckpointError(
        'unsupported',
        file,
        `zip entry ${entry.name} uses compression method ${entry.method}`,
      );
    }
    try {
      const out = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
      if (out.length !== entry.uncompressedSize) throw new Error(`inflated to ${out.length} bytes`);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (err) {
      throw new CheckpointError(
        'bad-format',
        file,
        `zip entry ${entry.name} does not inflate: ${(err as Error).message}`,
      );
    }
  }
}
