/**
 * A job between its preparation and its answer: what the host makes of its images (the crop,
 * variant tiles in a grid, or the faces pasted back into the whole photo) and the result the
 * engine answers from them.
 */
import { UserError } from './errors.ts';
import type { Content, GroupContent } from './content.ts';
import type { EncodedImage } from './image/encode.ts';
import type { JobOutput } from './image/render.ts';
import type { StyleManifest } from './pack/manifest.ts';
import type { FaceInfo } from './photo.ts';
import type { ParsedRequest } from './request.ts';
import type { StyleUsed, StylizeResult } from './results.ts';
import type { GenerateInput } from './runtime/loaded.ts';
import type { Timings } from './timings.ts';

/** A job ready for the generator. */
export interface Prepared {
  req: ParsedRequest;
  manifest: StyleManifest;
  size: number;
  content: Content;
  used: StyleUsed;
  /** One per image to generate: a face of the photo, or a tile. */
  inputs: GenerateInput[];
  tiles?: StyleUsed[];
  /** For a whole photo: the photo and the faces to paste, one per input. */
  paste?: Paste;
  timings: Timings;
}

export interface Paste {
  photo: Uint8Array;
  faces: FaceInfo[];
  skipped: number;
}

/** What a whole photo (`output: photo` or `faces: all`) pastes back; none for a crop. */
export function pasteOf(
  req: ParsedRequest,
  content: Content,
  group: GroupContent | undefined,
): Paste | undefined {
  if (req.output !== 'photo' && req.faces !== 'all') return undefined;
  // Codes last days, photos minutes at most (keepPhotosMs): past that, the photo again.
  if (req.face.kind !== 'photo') throw new UserError('photo-needed', 'paste-back');
  const faces = group?.faces ?? (content.face ? [content.face] : []);
  return { photo: req.face.bytes, faces, skipped: group?.skipped ?? 0 };
}

/** What the host makes of a job's images: the crop, tiles, or the whole photo. */
export function jobOutput(p: Prepared, pasteMaxSide: number | undefined): JobOutput {
  return {
    images: p.inputs.length,
    size: p.size,
    format: p.req.format,
    quality: p.req.quality,
    ...(p.req.columns !== undefined && { columns: p.req.columns }),
    ...(p.paste && {
      paste: {
        photo: p.paste.photo,
        quads: p.paste.faces.map((f) => f.quad),
        ...(pasteMaxSide !== undefined && { maxSide: pasteMaxSide }),
      },
    }),
  };
}

/** The answer to a job, once the host has made its image in a batch of `batchSize` images. */
export function stylizeResult(p: Prepared, image: EncodedImage, batchSize: number): StylizeResult {
  return {
    image,
    ...(p.content.photoKey !== undefined && { photoKey: p.content.photoKey }),
    ...(p.content.face && { face: p.content.face }),
    style: p.used,
    weights: [...p.inputs[0]!.weights],
    truncation: p.inputs[0]!.truncation,
    preserveColor: p.req.preserveColor,
    ...(p.content.encoder && { encoder: p.content.encoder }),
    ...(p.req.noiseSeed !== undefined && { noiseSeed: p.req.noiseSeed }),
    cacheHit: p.content.cacheHit,
    batchSize,
    ...(p.tiles && { tiles: p.tiles }),
    ...(p.paste && { faces: p.paste.faces, skippedFaces: p.paste.skipped }),
    timings: p.timings,
  };
}
