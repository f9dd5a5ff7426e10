/**
 * Content codes: a photo → its face(s) → the chosen encoder's code, through the latent cache, or
 * a random face's code. The heavy steps (decode, detect, align, encode) run in the inference host.
 */
import { NoFaceError, UserError } from './errors.ts';
import type { PackCatalog, PackInfo } from './catalog.ts';
import type { LatentCache } from './cache/latents.ts';
import { sha256 } from './hash.ts';
import type { InferenceClient } from './inference/client.ts';
import type { EncoderManifest } from './pack/manifest.ts';
import type { FaceInfo } from './photo.ts';
import { createRng } from './random.ts';
import type { EncoderChoice, ParsedRequest } from './request.ts';
import type { JobContext } from './scheduler/index.ts';
import { timed, type Timings } from './timings.ts';

/** A job's content code (its largest face's, for a group photo) and where it came from. */
export interface Content {
  code: Float32Array;
  /** The encoder that made `code`; none for a random face (a z code). */
  encoder?: EncoderChoice;
  isW: boolean;
  photoKey?: string;
  face?: FaceInfo;
  cacheHit: boolean;
}

/** Every face of a group photo: one code each, where each is, and how many were left out. */
export interface GroupContent {
  content: Content;
  codes: Float32Array[];
  faces: FaceInfo[];
  skipped: number;
}

export interface ContentOptions {
  /** The encoder for requests that do not name one (default `style`). */
  encoder?: EncoderChoice;
  /** Faces encoded at most in a group photo; the host's default when unset. */
  maxFaces?: number;
}

export class ContentCodes {
  constructor(
    private readonly host: Pick<InferenceClient, 'call'>,
    private readonly cache: LatentCache,
    private readonly catalog: PackCatalog,
    private readonly options: ContentOptions,
  ) {}

  /** The content code of one face: from the cache, the chosen encoder, or a random face. */
  async face(
    req: ParsedRequest,
    pack: PackInfo,
    ctx: JobContext,
    timings: Timings,
  ): Promise<Content> {
    const { nLatent: n, styleDim: d } = pack.manifest;
    if (req.face.kind === 'random') {
      // The reference's random portrait: one z, repeated over every slot (mapping is row-wise).
      const z = createRng(`face:${req.face.seed}`).fillNormal(new Float32Array(d));
      const code = new Float32Array(n * d);
      for (let k = 0; k < n; k++) code.set(z, k * d);
      return { code, isW: false, cacheHit: false };
    }
    const choice = this.choice(req);
    const encoder = this.catalog.encoderFor(pack, choice);
    const isW = encoder.space === 'w+';
    // The checksum names the encoder's weights, so z+ and W+ codes of one photo never mix.
    const checksum = encoderChecksum(encoder);
    const key = req.face.kind === 'photo' ? sha256(req.face.bytes) : req.face.key;
    const made = { encoder: choice, isW, photoKey: key };
    // Checked against this pack: an entry of another shape (or damaged) is dropped, a miss.
    const cached = await this.cache.getContent(key, checksum, { nLatent: n, styleDim: d });
    if (cached) {
      // Store it again under this user too, so their forget() removes it even if another user
      // sent the same bytes first (it also restarts the TTL of a photo in use).
      await this.cache.setContent(key, checksum, cached, req.userId);
      return { ...made, code: cached.code, face: cached.alignment, cacheHit: true };
    }
    if (req.face.kind === 'cached-photo') throw new UserError('photo-expired', key);
    const name = pack.manifest.name;
    const encoded = await this.encode(req.face.bytes, name, choice, ctx, timings);
    await this.cache.setContent(
      key,
      checksum,
      { code: encoded.code, nLatent: n, styleDim: d, alignment: encoded.face },
      req.userId,
    );
    return { ...made, code: encoded.code, face: encoded.face, cacheHit: false };
  }

  /**
   * Every face of the photo (`faces: all`), from the cache or aligned and encoded in one call
   * each. The largest face's code is also `content`, as for one face.
   */
  async group(
    req: ParsedRequest,
    pack: PackInfo,
    ctx: JobContext,
    timings: Timings,
  ): Promise<GroupContent> {
    const choice = this.choice(req);
    const encoder = this.catalog.encoderFor(pack, choice);
    const isW = encoder.space === 'w+';
    const row = pack.manifest.nLatent * pack.manifest.styleDim;
    if (req.face.kind === 'random') throw new UserError('bad-option', 'a random face has no photo');
    const key = req.face.kind === 'photo' ? sha256(req.face.bytes) : req.face.key;
    const { maxFaces } = this.options;
    // One entry for the whole photo: every face's code, and where each is (its FaceInfo).
    const cacheKey = `faces:${encoderChecksum(encoder)}:${maxFaces ?? 'default'}:${key}`;
    const cached = await this.cache.getStyleCode(cacheKey);
    let found: Omit<GroupContent, 'content'>;
    let cacheHit = false;
    if (
      cached &&
      typeof cached.meta.faces === 'string' &&
      typeof cached.meta.skipped === 'number'
    ) {
      const faces = JSON.parse(cached.meta.faces) as FaceInfo[];
      const codes = faces.map((_, i) => cached.code.slice(i * row, (i + 1) * row));
      found = { codes, faces, skipped: cached.meta.skipped };
      cacheHit = true;
    } else {
      if (req.face.kind !== 'photo') throw new UserError('photo-expired', key);
      ctx.stage('aligning');
      const bytes = req.face.bytes;
      const aligned = await this.host.call(
        'align-all',
        { bytes, ...(maxFaces !== undefined && { maxFaces }) },
        ctx.signal,
      );
      timings.decode = (timings.decode ?? 0) + aligned.decodeMs;
      timings.detect = (timings.detect ?? 0) + aligned.detectMs;
      ctx.signal.throwIfAborted();
      ctx.stage('encoding');
      const name = pack.manifest.name;
      const codes = aligned.crops.length
        ? await timed(timings, 'encode', () =>
            this.host.call(
              'encode-all',
              { pack: name, crops: aligned.crops, encoder: choice },
              ctx.signal,
            ),
          )
        : [];
      found = { codes, faces: aligned.faces, skipped: aligned.skipped };
      const all = new Float32Array(codes.length * row);
      codes.forEach((c, i) => all.set(c, i * row));
      const meta = { faces: JSON.stringify(found.faces), skipped: found.skipped };
      await this.cache.setStyleCode(cacheKey, all, meta, req.userId);
    }
    const [code, face] = [found.codes[0], found.faces[0]];
    if (!code || !face) throw new NoFaceError('no face of the photo could be aligned');
    const content: Content = { encoder: choice, isW, photoKey: key, code, face, cacheHit };
    return { content, ...found };
  }

  /** Photo bytes → a code of `pack`'s `encoder` in the host: find and align the face, encode. */
  async encode(
    bytes: Uint8Array,
    pack: string,
    encoder: EncoderChoice,
    ctx: JobContext,
    timings: Timings,
  ): Promise<{ code: Float32Array; face: FaceInfo }> {
    ctx.stage('aligning');
    const aligned = await this.host.call('align', { bytes }, ctx.signal);
    timings.decode = (timings.decode ?? 0) + aligned.decodeMs;
    timings.detect = (timings.detect ?? 0) + aligned.detectMs;
    ctx.signal.throwIfAborted();
    ctx.stage('encoding');
    const code = await timed(timings, 'encode', () =>
      this.host.call('encode', { pack, crop: aligned.crop, encoder }, ctx.signal),
    );
    return { code, face: aligned.face };
  }

  private choice(req: ParsedRequest): EncoderChoice {
    return req.encoder ?? this.options.encoder ?? 'style';
  }
}

/** Identifies the encoder weights, so cached codes never outlive the encoder that made them. */
export function encoderChecksum(encoder: EncoderManifest): string {
  const files = encoder.files;
  return (
    files.find((f) => f.name === 'encoder.onnx.data')?.sha256 ?? files.map((f) => f.sha256).join('')
  );
}
