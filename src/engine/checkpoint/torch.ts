import { ELEMENT_SIZE } from './convert.ts';
import { CheckpointError, asCheckpointError } from './errors.ts';
import { closeQuietly, openForReading, readAt } from './io.ts';
import { loadLegacy, looksLikeLegacy } from './legacy.ts';
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
import { isLazyTensor } from './tensor.ts';
import type { LazyTensor, StateDict } from './tensor.ts';
import { ZipArchive, looksLikeZip } from './zip.ts';

/** A torch.save file whose pickle has been interpreted; tensors read their bytes on demand. */
export interface TorchCheckpoint {
  readonly file: string;
  readonly format: 'zip' | 'legacy';
  /** The unpickled object: Maps, arrays, primitives and {@link LazyTensor}s. */
  readonly root: PyValue;
  /** Releases the file; tensors read afterwards throw CheckpointError('closed'). */
  close(): void;
}

// The inflated size a data.pkl may have: the released encoder's is ~200 KB, so 64 MiB is 300×
// headroom, and it bounds what a small deflated entry (a "zip bomb" of one-byte opcodes) can
// make us inflate before the pickle machine's own budget (PICKLE_BUDGET) even starts.
export const MAX_PICKLE_BYTES = 64 * 1024 * 1024;

function loadZip(
  fd: number,
  file: string,
  size: number,
): { root: PyValue; source: CheckpointFile } {
  const zip = new ZipArchive(fd, file, size);
  // torch names the top folder after the file it saved to (archive/, generator/, …).
  const pickles = [...zip.entries.values()].filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  const pickle = pickles[0];
  if (pickle === undefined || pickles.length > 1) {
    throw new CheckpointError(
      'bad-format',
      file,
      pickles.length > 1
        ? 'zip holds several data.pkl records'
        : 'zip has no <folder>/data.pkl: not a torch.save checkpoint (a TorchScript archive?)',
    );
  }
  const prefix = pickle.name.slice(0, -'data.pkl'.length);
  const byteorder = zip.entries.get(`${prefix}byteorder`);
  const littleEndian =
    byteorder === undefined ||
    new TextDecoder().decode(zip.readEntry(byteorder, 16)).trim() !== 'big';
  const source = new CheckpointFile(fd, file, size, littleEndian);
  const blobs = new Map<string, StorageBlob>();

  const persistentLoad = (pid: PyValue): PyValue => {
    // ('storage', storage_type, key, location, numel)
    if (!isTuple(pid) || pid[0] !== 'storage' || pid.length < 5) {
      throw new CheckpointError('bad-format', file, 'unknown persistent id');
    }
    const [, type, key, , size] = pid;
    if (typeof key !== 'string') {
      throw new CheckpointError('bad-format', file, 'storage key is not a string');
    }
    let blob = blobs.get(key);
    if (blob === undefined) {
      const dtype = storageDtype(type, file);
      const numel = intArg(size, file, `storage ${key} size`);
      const entry = zip.entries.get(`${prefix}data/${key}`);
      if (entry === undefined) {
        throw new CheckpointError('bad-format', file, `storage ${prefix}data/${key} is missing`);
      }
      if (numel * ELEMENT_SIZE[dtype] > entry.uncompressedSize) {
        throw new CheckpointError(
          'bad-shape',
          file,
          `storage ${key} claims ${numel} ${dtype} elements but holds ${entry.uncompressedSize} bytes`,
        );
      }
      blob = new StorageBlob(source, key, dtype, numel);
      blob.dataOffset = zip.storedDataOffset(entry);
      blobs.set(key, blob);
    }
    return new TorchStorage(blob, 0, blob.numel);
  };
  const data = zip.readEntry(pickle, MAX_PICKLE_BYTES);
  const { value } = unpickle(data, { file, globals: TORCH_GLOBALS, persistentLoad });
  return { root: value, source };
}

/**
 * Opens a torch.save checkpoint (zip or legacy format). Only the pickle is read now; the fd
 * stays open so tensors can read their slices later, until `close()`.
 */
export function openTorchCheckpoint(file: string): TorchCheckpoint {
  const { fd, size } = openForReading(file);
  try {
    if (size === 0) throw new CheckpointError('truncated', file, 'file is empty');
    const head = readAt(fd, file, 0, Math.min(size, 4));
    let format: TorchCheckpoint['format'];
    let loaded: { root: PyValue; source: CheckpointFile };
    if (looksLikeZip(head)) {
      format = 'zip';
      loaded = loadZip(fd, file, size);
    } else if (looksLikeLegacy(head)) {
      format = 'legacy';
      loaded = loadLegacy(fd, file, size);
    } else {
      throw new CheckpointError(
        'bad-magic',
        file,
        'not a PyTorch checkpoint (neither a zip nor a pickle)',
      );
    }
    const { root, source } = loaded;
    return { file, format, root, close: () => source.close() };
  } catch (err) {
    closeQuietly(fd);
    throw asCheckpointError(err, file);
  }
}

/**
 * A key for a message, without recursing: `String()` of a tuple nested 200 000 deep (which a
 * pickle can build in a few hundred KB) overflows the call stack.
 */
function describeKey(key: PyValue): string {
  if (typeof key === 'string') return `'${key.slice(0, 100)}'`;
  if (key === null || typeof key !== 'object') return String(key);
  if (Array.isArray(key)) return `a ${isTuple(key) ? 'tuple' : 'list'} of ${key.length}`;
  return `a ${key.constructor.name}`;
}

function describe(path: readonly string[]): string {
  return path.length === 0 ? 'the checkpoint root' : path.map((k) => `['${k}']`).join('');
}

/** The value at `path` (dict keys from the root), or CheckpointError('missing-key'/'bad-format'). */
export function valueAt(checkpoint: TorchCheckpoint, path: readonly string[]): PyValue {
  let node = checkpoint.root;
  for (let i = 0; i < path.length; i++) {
    const key = path[i] ?? '';
    if (!(node instanceof Map)) {
      throw new CheckpointError(
        'bad-format',
        checkpoint.file,
        `${describe(path.slice(0, i))} is not a dict`,
      );
    }
    if (!node.has(key)) {
      const keys = [...node.keys()].filter((k) => typeof k === 'string').slice(0, 10);
      throw new CheckpointError(
        'missing-key',
        checkpoint.file,
        `no ${describe(path.slice(0, i + 1))} (keys there: ${keys.join(', ') || 'none'})`,
      );
    }
    node = node.get(key) ?? null;
  }
  return node;
}

/** The state dict at `path`, e.g. `['g_ema']` or `['state_dict']`, in the file's key order. */
export function stateDictAt(checkpoint: TorchCheckpoint, path: readonly string[]): StateDict {
  const node = valueAt(checkpoint, path);
  if (!(node instanceof Map)) {
    throw new CheckpointError(
      'bad-format',
      checkpoint.file,
      `${describe(path)} is not a state dict`,
    );
  }
  const out = new Map<string, LazyTensor>();
  for (const [key, value] of node) {
    if (typeof key !== 'string' || !isLazyTensor(value)) {
      throw new CheckpointError(
        'bad-format',
        checkpoint.file,
        `${describe(path)} is not a state dict: entry ${describeKey(key)} is not a tensor`,
      );
    }
    out.set(key, value);
  }
  return out;
}

/** The tensor at `path`, e.g. `['latent_avg']`. */
export function tensorAt(checkpoint: TorchCheckpoint, path: readonly string[]): LazyTensor {
  const node = valueAt(checkpoint, path);
  if (!isLazyTensor(node)) {
    throw new CheckpointError('bad-format', checkpoint.file, `${describe(path)} is not a tensor`);
  }
  return node;
}

/** `sd[key]`, or CheckpointError naming the key and file ('missing-key', or 'bad-shape' for a wrong rank). */
export function requireTensor(
  sd: StateDict,
  key: string,
  file: string,
  expectedRank?: number,
): LazyTensor {
  const tensor = sd.get(key);
  if (tensor === undefined) {
    throw new CheckpointError('missing-key', file, `state dict has no tensor ${key}`);
  }
  if (expectedRank !== undefined && tensor.shape.length !== expectedRank) {
    throw new CheckpointError(
      'bad-shape',
      file,
      `${key} has shape [${tensor.shape.join(', ')}], expected rank ${expectedRank}`,
    );
  }
  return tensor;
}
