import { ELEMENT_SIZE } from './convert.ts';
import { CheckpointError } from './errors.ts';
import { readAt } from './io.ts';
import { isTuple, unpickle } from './pickle.ts';
import type { PyValue } from './pickle.ts';
import {
  CheckpointFile,
  StorageBlob,
  TORCH_GLOBALS,
  TorchStorage,
  intArg,
  storageDtype,
} from './storage.ts';

/**
 * The pre-1.6 torch.save layout: five pickles back to back (magic number, protocol version,
 * sys info, the object with persistent ids, the list of storage keys), then each storage as an
 * 8-byte little-endian element count followed by its raw bytes, in that list's order.
 */

const MAGIC = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;
// The pickles of a 1.2 GB checkpoint take ~100 KB; the file is read in growing windows up to
// this bound until all five parse, so the tensor data behind them is never read.
const FIRST_WINDOW = 1 << 20;
// Same bound as a zip's data.pkl (torch.ts MAX_PICKLE_BYTES): 300× what real files need.
const MAX_PICKLE_REGION = 64 * 1024 * 1024;

/** True when `head` starts with a pickle protocol marker, as a legacy checkpoint does. */
export function looksLikeLegacy(head: Uint8Array): boolean {
  return head[0] === 0x80;
}

interface Parsed {
  readonly root: PyValue;
  readonly blobs: ReadonlyMap<string, StorageBlob>;
  readonly keys: readonly string[];
  readonly dataStart: number;
}

function parse(buf: Uint8Array, source: CheckpointFile): Parsed {
  const file = source.file;
  let magic: { value: PyValue; end: number };
  try {
    magic = unpickle(buf, { file, globals: new Map() });
  } catch (err) {
    // A pickle that names a dangerous global deserves that exact diagnosis; anything else that
    // fails to parse as the 15-byte magic pickle is simply not a checkpoint.
    if (err instanceof CheckpointError && err.code === 'forbidden-global') throw err;
    throw new CheckpointError('bad-magic', file, 'not a PyTorch checkpoint (no magic number)');
  }
  if (magic.value !== MAGIC) {
    throw new CheckpointError('bad-magic', file, 'not a PyTorch checkpoint (wrong magic number)');
  }
  const version = unpickle(buf, { file, globals: new Map() }, magic.end);
  if (version.value !== PROTOCOL_VERSION) {
    throw new CheckpointError(
      'unsupported',
      file,
      `legacy checkpoint protocol ${String(version.value)}`,
    );
  }
  // sys_info records the writer's byte order, but storages in this format are always written
  // little-endian (torch converts on write and back on read), so it is not needed.
  const sysInfo = unpickle(buf, { file, globals: new Map() }, version.end);

  const blobs = new Map<string, StorageBlob>();
  const persistentLoad = (pid: PyValue): PyValue => {
    // ('storage', storage_type, root_key, location, root_numel, view_metadata)
    if (!isTuple(pid) || pid[0] !== 'storage' || pid.length < 5) {
      throw new CheckpointError('bad-format', file, 'unknown persistent id');
    }
    const [, type, key, , size, view] = pid;
    if (typeof key !== 'string') {
      throw new CheckpointError('bad-format', file, 'storage key is not a string');
    }
    const numel = intArg(size, file, `storage ${key} size`);
    let blob = blobs.get(key);
    if (blob === undefined) {
      blob = new StorageBlob(source, key, storageDtype(type, file), numel);
      blobs.set(key, blob);
    }
    if (view === null || view === undefined) return new TorchStorage(blob, 0, blob.numel);
    // Pre-0.4 storage views: (view_key, offset, view_size) into the root storage.
    if (!isTuple(view) || view.length !== 3) {
      throw new CheckpointError('bad-format', file, 'bad storage view');
    }
    const offset = intArg(view[1], file, 'view offset');
    const viewSize = intArg(view[2], file, 'view size');
    if (offset + viewSize > blob.numel) {
      throw new CheckpointError('bad-shape', file, `storage view past the end of storage ${key}`);
    }
    return new TorchStorage(blob, offset, viewSize);
  };
  const main = unpickle(buf, { file, globals: TORCH_GLOBALS, persistentLoad }, sysInfo.end);
  const list = unpickle(buf, { file, globals: new Map() }, main.end);
  if (!Array.isArray(list.value) || !list.value.every((k) => typeof k === 'string')) {
    throw new CheckpointError('bad-format', file, 'storage key list is not a list of strings');
  }
  return { root: main.value, blobs, keys: list.value as string[], dataStart: list.end };
}

/** Reads the legacy format's pickles and locates every storage without reading its data. */
export function loadLegacy(
  fd: number,
  file: string,
  size: number,
): { root: PyValue; source: CheckpointFile } {
  const source = new CheckpointFile(fd, file, size, true);
  let window = Math.min(size, FIRST_WINDOW);
  let parsed: Parsed;
  for (;;) {
    try {
      parsed = parse(readAt(fd, file, 0, window), source);
      break;
    } catch (err) {
      const more = err instanceof CheckpointError && err.code === 'truncated' && window < size;
      if (!more || window >= MAX_PICKLE_REGION) throw err;
      window = Math.min(size, window * 4, MAX_PICKLE_REGION);
    }
  }
  let pos = parsed.dataStart;
  for (const key of parsed.keys) {
    const blob = parsed.blobs.get(key);
    if (blob === undefined) {
      throw new CheckpointError('bad-format', file, `storage ${key} is not referenced`);
    }
    const count = new DataView(readAt(fd, file, pos, 8).buffer).getBigInt64(0, true);
    if (count !== BigInt(blob.numel)) {
      throw new CheckpointError(
        'bad-format',
        file,
        `storage ${key} holds ${count} elements, expected ${blob.numel}`,
      );
    }
    blob.dataOffset = pos + 8;
    pos = blob.dataOffset + blob.numel * ELEMENT_SIZE[blob.dtype];
    if (pos > size) {
      throw new CheckpointError(
        'truncated',
        file,
        `storage ${key} runs past the end of the file (${pos} > ${size})`,
      );
    }
  }
  for (const blob of parsed.blobs.values()) {
    if (blob.dataOffset < 0) {
      throw new CheckpointError('bad-format', file, `storage ${blob.key} has no data`);
    }
  }
  return { root: parsed.root, source };
}
