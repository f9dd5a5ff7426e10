/**
 * Kept photos in the latent cache (`setPhoto`, for `privacy.keepPhotosMinutes`): their own short
 * TTL on a fake clock, per user, and `forget` removes them without the photos' minutes cutting
 * short the index of the user's codes.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, mock } from 'node:test';
import { createLatentCache, type LatentCache } from '../../src/engine/cache/latents.ts';
import { tempDir } from '../helpers/packs.ts';

const sha = (n: number): string => n.toString(16).padStart(64, '0');
const MINUTE = 60_000;
const DAY = 1440 * MINUTE;
const bytes = new Uint8Array([0xff, 0xd8, 1, 2, 3]);
const code = {
  code: new Float32Array(4).fill(0.5),
  nLatent: 2,
  styleDim: 2,
  alignment: {
    quad: [
      [0, 0],
      [0, 1],
      [1, 1],
      [1, 0],
    ],
    box: [0, 0, 1, 1],
    landmarks: [],
    faceCount: 1,
    qsize: 1,
  },
};

for (const store of ['memory', 'sqlite']) {
  describe(`kept photos (${store})`, () => {
    const open = (): Promise<LatentCache> =>
      createLatentCache({
        url: store === 'memory' ? 'memory' : `sqlite://${join(tempDir('photos'), 'c.sqlite')}`,
        ttlMs: 7 * DAY,
      });

    it('keeps a photo for its own minutes, for its user only', async () => {
      mock.timers.enable({ apis: ['Date'], now: Date.now() });
      const cache = await open();
      try {
        await cache.setPhoto(sha(1), bytes, 'ada', 10 * MINUTE);
        const kept = await cache.getPhoto(sha(1), 'ada');
        assert.ok(kept);
        // SQLite hands back a Buffer: compare the bytes, not the class.
        assert.deepEqual(new Uint8Array(kept), bytes);
        assert.equal(await cache.getPhoto(sha(1), 'bob'), undefined);
        mock.timers.tick(10 * MINUTE + 1);
        assert.equal(await cache.getPhoto(sha(1), 'ada'), undefined);
      } finally {
        await cache.close();
        mock.timers.reset();
      }
    });

    it('forget removes photos and still finds codes stored before a photo expired', async () => {
      mock.timers.enable({ apis: ['Date'], now: Date.now() });
      const cache = await open();
      try {
        await cache.setContent(sha(2), 'enc', code, 'cy');
        await cache.setPhoto(sha(3), bytes, 'cy', 10 * MINUTE);
        await cache.setPhoto(sha(2), bytes, 'cy', MINUTE);
        mock.timers.tick(2 * MINUTE);
        // Counts codes, not photos; the index outlived the last photo's minute, so it still
        // names the code and the longer-kept photo.
        assert.equal(await cache.forget('cy'), 1);
        assert.equal(await cache.getContent(sha(2), 'enc'), undefined);
        assert.equal(await cache.getPhoto(sha(3), 'cy'), undefined);
        await cache.setPhoto(sha(4), bytes, 'cy', MINUTE);
        assert.equal(await cache.deletePhoto(sha(4), 'cy'), true);
        assert.equal(await cache.getPhoto(sha(4), 'cy'), undefined);
      } finally {
        await cache.close();
        mock.timers.reset();
      }
    });
  });
}
