import fs from 'node:fs';
import { CheckpointError } from './errors.ts';

// Every read goes through this module's default `fs` import (not named imports) so that a test
// can count the bytes a reader pulls from disk with `mock.method(fs, 'readSync')`.

/** Opens a file for reading, turning ENOENT/EISDIR into a {@link CheckpointError}. */
export function openForReading(file: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CheckpointError('not-found', file, 'file does not exist');
    throw new CheckpointError('not-found', file, `cannot open: ${(err as Error).message}`);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new CheckpointError('not-found', file, 'not a regular file');
    return { fd, size: stat.size };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

export function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Already closed or never valid: nothing left to release.
  }
}

/**
 * Reads exactly `length` bytes at `position`. A short read means the file ended early (or
 * shrank while open), which is reported as truncation rather than returning garbage.
 */
export function readAt(fd: number, file: string, position: number, length: number): Uint8Array {
  if (!Number.isSafeInteger(position) || !Number.isSafeInteger(length) || length < 0) {
    throw new CheckpointError('bad-format', file, `invalid read of ${length} bytes at ${position}`);
  }
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    // Node caps a single read at 2 GiB; chunking keeps huge tensors readable too.
    const chunk = Math.min(length - done, 0x40000000);
    const n = fs.readSync(fd, out, done, chunk, position + done);
    if (n === 0) {
      throw new CheckpointError(
        'truncated',
        file,
        `file ends at ${position + done} bytes, expected ${length} bytes at offset ${position}`,
      );
    }
    done += n;
  }
  return out;
}
