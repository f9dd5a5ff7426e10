import { CheckpointError } from './errors.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });
// Integers in checkpoints are sizes and the 10-byte magic number; longer ones are not data.
const MAX_LONG_BYTES = 64;
// Module and class names; a "line" longer than this is not a GLOBAL argument.
const MAX_LINE = 1024;

/**
 * Reads opcode arguments from a pickle, bounds-checked: running off the end is 'truncated',
 * and every error names the opcode being decoded and its offset.
 */
export class PickleCursor {
  private readonly view: DataView;
  op = 0;
  opPos: number;

  constructor(
    private readonly data: Uint8Array,
    readonly file: string,
    public pos: number,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.opPos = pos;
  }

  fail(detail: string): never {
    throw new CheckpointError('bad-format', this.file, `${this.where()}: ${detail}`);
  }

  where(): string {
    return `pickle opcode 0x${this.op.toString(16)} at ${this.opPos}`;
  }

  /** Starts decoding the next opcode and returns it. */
  next(): number {
    this.opPos = this.pos;
    this.op = 0;
    this.op = this.u8();
    return this.op;
  }

  private need(n: number): number {
    if (n < 0 || this.pos + n > this.data.byteLength) {
      throw new CheckpointError('truncated', this.file, `pickle ends inside ${this.where()}`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(): number {
    return this.data[this.need(1)] ?? 0;
  }

  u16(): number {
    return this.view.getUint16(this.need(2), true);
  }

  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }

  i32(): number {
    return this.view.getInt32(this.need(4), true);
  }

  /** BINFLOAT is big-endian, unlike every other pickle field. */
  f64be(): number {
    return this.view.getFloat64(this.need(8), false);
  }

  u64(): number {
    const v = this.view.getBigUint64(this.need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`length ${v} is absurd`);
    return Number(v);
  }

  /** A copy, so a value kept from the pickle never pins the whole pickle buffer. */
  bytes(n: number): Uint8Array {
    const at = this.need(n);
    return this.data.slice(at, at + n);
  }

  text(n: number): string {
    const at = this.need(n);
    try {
      return utf8.decode(this.data.subarray(at, at + n));
    } catch {
      return this.fail('string is not valid UTF-8');
    }
  }

  /** A newline-terminated argument (GLOBAL, INST). */
  line(): string {
    const end = this.data.subarray(this.pos, this.pos + MAX_LINE + 1).indexOf(0x0a);
    if (end < 0) {
      if (this.data.byteLength - this.pos <= MAX_LINE) {
        this.need(this.data.byteLength - this.pos + 1);
      }
      this.fail('text argument too long');
    }
    return this.text(end + 1).slice(0, -1);
  }

  /** LONG1/LONG4: little-endian two's complement; a number when it is exact, else a bigint. */
  long(n: number): number | bigint {
    if (n > MAX_LONG_BYTES) {
      throw new CheckpointError('unsupported', this.file, `${this.where()}: integer of ${n} bytes`);
    }
    const raw = this.bytes(n);
    let v = 0n;
    for (let i = raw.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i] ?? 0);
    if (n > 0 && ((raw[n - 1] ?? 0) & 0x80) !== 0) v -= 1n << BigInt(8 * n);
    const safe = v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER);
    return safe ? Number(v) : v;
  }
}
