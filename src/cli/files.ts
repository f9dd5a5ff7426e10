/** Files named on the command line: a read or write that fails is a sentence, not a stack. */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { FileAccessError } from '../engine/index.ts';

/** The bytes of `path`; `what` names it in the error ("The photo", "The --exemplar image"). */
export function readInput(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw FileAccessError.from(error, what, path, 'read');
  }
}

/**
 * Fails when `path`'s folder is missing or is a file, before any work goes into what would be
 * written there. A folder that refuses the write itself is only found by {@link writeOutput}.
 */
export function checkOutputFolder(path: string, what: string): void {
  let isFolder: boolean;
  try {
    isFolder = statSync(dirname(path)).isDirectory();
  } catch (error) {
    throw FileAccessError.from(error, what, path, 'write');
  }
  if (!isFolder) throw new FileAccessError(what, path, 'ENOTDIR', true);
}

export function writeOutput(path: string, bytes: Uint8Array, what: string): void {
  try {
    writeFileSync(path, bytes);
  } catch (error) {
    throw FileAccessError.from(error, what, path, 'write');
  }
}
