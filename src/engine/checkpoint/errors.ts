/** Why a checkpoint or code table could not be read. */
import { PasticheError } from '../errors.ts';

export type CheckpointErrorCode =
  | 'not-found'
  | 'truncated'
  | 'bad-magic'
  | 'bad-format'
  | 'forbidden-global'
  | 'unsupported'
  | 'bad-shape'
  | 'missing-key'
  /** A tensor was read after its checkpoint was closed. */
  | 'closed';

/**
 * A checkpoint, `.npy` table or state dict that cannot be used. Always names the file and the
 * cause, so an operator can tell a truncated download from a file that is not a DualStyleGAN
 * checkpoint at all.
 */
export class CheckpointError extends PasticheError {
  override readonly name = 'CheckpointError';

  constructor(
    readonly code: CheckpointErrorCode,
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

/**
 * The error a reader throws for whatever went wrong while decoding `file`: a CheckpointError as
 * it is, anything else (a RangeError from a hostile size that slipped past a check, a stack
 * overflow) as 'bad-format', so callers only ever see the typed error.
 */
export function asCheckpointError(error: unknown, file: string): CheckpointError {
  if (error instanceof CheckpointError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new CheckpointError('bad-format', file, `cannot be decoded (${detail})`);
}
