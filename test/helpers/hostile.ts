/**
 * The crafted checkpoints of the hostile-input audit (issue 11): tiny files that used to abort
 * the importer (heap exhaustion, V8 "invalid size", stack overflow, an untyped RangeError) or
 * expand a few bytes into a gigabyte. Shared by the reader tests and the CLI test.
 */
import fs from 'node:fs';
import type { CheckpointErrorCode } from '../../src/engine/checkpoint/index.ts';
import { stateDictPickle, writeZip } from '../checkpoint/helpers.ts';

export interface HostileCheckpoint {
  readonly name: string;
  readonly what: string;
  /** The CheckpointError code the readers must end in. */
  readonly code: CheckpointErrorCode;
  /** Writes the file at `file` and returns its path. */
  write(file: string): string;
}

const enc = new TextEncoder();

/** `proto 2`, `body`, STOP: built as one Buffer, since these pickles are tens of MB. */
function bomb(opcode: number, count: number, prefix: number[] = []): Uint8Array {
  const out = Buffer.alloc(2 + prefix.length + count + 1, opcode);
  out[0] = 0x80;
  out[1] = 2;
  Buffer.from(prefix).copy(out, 2);
  out[out.length - 1] = 0x2e;
  return out;
}

function pickleZip(file: string, pickle: Uint8Array): string {
  writeZip(file, [{ name: 'archive/data.pkl', data: pickle, deflate: true }]);
  return file;
}

/** `{'g_ema': OrderedDict({key: None})}` where key is None wrapped in `depth` 1-tuples. */
function deepKeyPickle(depth: number): Uint8Array {
  const head = [0x80, 2, 0x7d, 0x58, 5, 0, 0, 0, ...enc.encode('g_ema')];
  head.push(0x63, ...enc.encode('collections\nOrderedDict\n'), 0x29, 0x52, 0x4e);
  const tail = [0x4e, 0x73, 0x73, 0x2e];
  const out = Buffer.alloc(head.length + depth + tail.length, 0x85);
  Buffer.from(head).copy(out, 0);
  Buffer.from(tail).copy(out, head.length + depth);
  return out;
}

/** A central-directory ZIP64 record whose inner length runs past the header's extra length. */
function zip64Overrun(file: string): string {
  writeZip(
    file,
    [{ name: 'archive/data.pkl', data: stateDictPickle('g_ema', []) }],
    /* zip64 */ true,
  );
  const bytes = fs.readFileSync(file);
  const central = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  const nameLength = bytes.readUInt16LE(central + 28);
  // The extra field is 28 bytes; its ZIP64 record now claims 4 000.
  bytes.writeUInt16LE(4000, central + 46 + nameLength + 2);
  fs.writeFileSync(file, bytes);
  return file;
}

export function hostileCheckpoints(): HostileCheckpoint[] {
  return [
    {
      name: 'dict-bomb',
      what: 'a deflated data.pkl of 5 M EMPTY_DICT opcodes',
      code: 'bad-format',
      write: (file) => pickleZip(file, bomb(0x7d, 5_000_000)),
    },
    {
      name: 'dup-bomb',
      what: 'a deflated data.pkl of 5 M DUP opcodes',
      code: 'bad-format',
      write: (file) => pickleZip(file, bomb(0x32, 5_000_000, [0x4e])),
    },
    {
      name: 'inflate-bomb',
      what: 'a deflated data.pkl that inflates to 80 MB',
      code: 'unsupported',
      write: (file) => pickleZip(file, bomb(0x7d, 80_000_000)),
    },
    {
      name: 'zip64-extra',
      what: 'a ZIP64 extra record longer than its extra field',
      code: 'bad-format',
      write: zip64Overrun,
    },
    {
      name: 'deep-key',
      what: 'a state-dict key nested 200 000 tuples deep',
      code: 'bad-format',
      write: (file) => pickleZip(file, deepKeyPickle(200_000)),
    },
    {
      name: 'zero-stride',
      what: 'a zero-stride tensor that would expand 4 bytes into 256 MB',
      code: 'bad-shape',
      write: (file) => {
        const pickle = stateDictPickle('g_ema', [
          {
            key: 'generator.noises.noise_0',
            storage: '0',
            type: 'FloatStorage',
            numel: 1,
            size: [1, 1, 8192, 8192],
            stride: [0, 0, 0, 0],
          },
        ]);
        writeZip(file, [
          { name: 'archive/data.pkl', data: pickle },
          { name: 'archive/data/0', data: new Uint8Array(4) },
        ]);
        return file;
      },
    },
  ];
}
