import { createHash } from 'node:crypto';

/** Hex sha256 of bytes: how photos and style images are keyed in the cache. */
export const sha256 = (bytes: Uint8Array): string =>
  createHash('sha256').update(bytes).digest('hex');
