/**
 * Photos kept for pasting a later result back (`privacy.keepPhotosMinutes`): in the latent
 * cache, per user, for `keepMs`, removed by `forget`.
 */
import type { LatentCache } from './cache/latents.ts';
import type { Content } from './content.ts';
import type { ParsedRequest } from './request.ts';

export class KeptPhotos {
  /** `keepMs` ≤ 0 keeps nothing. */
  constructor(
    private readonly cache: LatentCache,
    private readonly keepMs: number,
  ) {}

  /**
   * A whole photo from an earlier photo (by its key) gets that photo's kept bytes, if they are
   * still kept for this user; otherwise the request stays as it is (and asks for the photo).
   */
  async restore(req: ParsedRequest): Promise<ParsedRequest> {
    const whole = req.output === 'photo' || req.faces === 'all';
    if (!whole || req.face.kind !== 'cached-photo') return req;
    const bytes = await this.cache.getPhoto(req.face.key, req.userId);
    return bytes ? { ...req, face: { kind: 'photo', bytes } } : req;
  }

  /**
   * Keeps a photo the user sent (one with a face). Bytes taken from the kept store arrive as a
   * cached photo and are not kept again: using a photo never extends its time.
   */
  async keep(req: ParsedRequest, content: Content): Promise<void> {
    if (this.keepMs <= 0 || req.face.kind !== 'photo' || !content.photoKey) return;
    await this.cache.setPhoto(content.photoKey, req.face.bytes, req.userId, this.keepMs);
  }
}
