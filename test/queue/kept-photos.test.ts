/**
 * Queue mode: a worker keeps a sent photo in the shared Redis (`privacy.keepPhotosMinutes`,
 * default 10), so a later whole photo of it needs no upload on any worker; the bot's
 * `forgetPhoto` (a result's `delete`) and `forget` remove it there.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UserError } from '../../src/engine/errors.ts';
import type { StylizeRequest } from '../../src/engine/request.ts';
import type { RemoteEngine } from '../../src/queue/remote-engine.ts';
import { FIXTURES } from '../helpers/packs.ts';
import { loopback, type Loopback } from './harness.ts';

const PHOTO = new Uint8Array(readFileSync(join(FIXTURES, 'alignment', 'astronaut.png')));

describe('queue: photos kept for a whole photo', { timeout: 300_000 }, () => {
  let lb: Loopback;
  let engine: RemoteEngine;
  before(async () => {
    lb = await loopback();
    await lb.startWorker();
    engine = await lb.engine();
  });
  after(() => lb.close());

  const style = { kind: 'exemplar', pack: 'demo-64', exemplar: 0 } as const;
  const whole = (userId: string, key: string): StylizeRequest => ({
    userId,
    face: { kind: 'cached-photo', key },
    style,
    output: 'photo',
  });
  const code = async (request: StylizeRequest): Promise<string | undefined> =>
    engine.stylize(request).then(
      () => undefined,
      (error: unknown) => {
        if (error instanceof UserError) return error.code;
        throw error;
      },
    );

  it('pastes into the kept photo until the bot deletes it', async () => {
    const user = 'test:kept:ada';
    const crop = await engine.stylize({
      userId: user,
      face: { kind: 'photo', bytes: PHOTO },
      style,
    });
    assert.ok(crop.photoKey);
    const pasted = await engine.stylize(whole(user, crop.photoKey));
    assert.equal(pasted.cacheHit, true);
    assert.ok(pasted.image.width > 64, `the whole photo, not the crop: ${pasted.image.width}`);

    assert.equal(await engine.forgetPhoto(user, crop.photoKey), true);
    assert.equal(await code(whole(user, crop.photoKey)), 'photo-needed');

    await engine.stylize({ userId: user, face: { kind: 'photo', bytes: PHOTO }, style });
    await engine.forget(user);
    // Codes and photo gone: the engine cannot even find the face.
    assert.equal(await code(whole(user, crop.photoKey)), 'photo-expired');
  });
});
