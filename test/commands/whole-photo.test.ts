/**
 * `whole-photo` given the photo again (an adapter that fetched it anew): pasted back when it is
 * the same photo by its hash; `photo-needed` with another, or with none where no photo is kept.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { tempDir } from '../helpers/packs.ts';
import { caller, collect, demoModels, last, photo, start, type Rig } from './setup.ts';

const astronaut = photo('astronaut.png');

describe('commands: whole photo', { timeout: 300_000 }, () => {
  const dir = tempDir('whole-photo');
  let rig: Rig;
  before(async () => {
    rig = await start(dir, await demoModels(dir), `sqlite://${join(dir, 'cache.sqlite')}`);
  });
  after(() => rig.close());

  it('pastes the same photo back; another photo or none is photo-needed', async () => {
    const crop = last(
      await collect((s) => rig.commands.stylize(caller('ann'), { photo: astronaut }, s)),
      'result',
    );
    const jobId = crop.jobId;
    const whole = (bytes?: Uint8Array) =>
      collect((s) =>
        rig.commands.wholePhoto(caller('ann'), { jobId, ...(bytes && { photo: bytes }) }, s),
      );
    assert.equal(last(await whole(), 'error').code, 'photo-needed');
    assert.equal(last(await whole(photo('i5R8hbZFDdc.jpg')), 'error').code, 'photo-needed');
    const pasted = last(await whole(astronaut), 'result');
    const meta = await sharp(astronaut).metadata();
    assert.deepEqual([pasted.image.width, pasted.image.height], [meta.width, meta.height]);
    assert.equal(pasted.params.faces, 1);
    assert.equal(pasted.params.reference, crop.params.reference);

    assert.equal(
      await rig.commands.check(caller('ann'), { command: 'wholePhoto', jobId }),
      undefined,
    );
    const other = await rig.commands.check(caller('bob'), { command: 'wholePhoto', jobId });
    assert.equal(other?.code, 'not-author');
  });

  it('a random portrait has no photo to paste into', async () => {
    const portrait = last(
      await collect((s) => rig.commands.styleRandom(caller('cy'), {}, s)),
      'result',
    );
    assert.equal(portrait.params.randomFace, true);
    const check = await rig.commands.check(caller('cy'), {
      command: 'wholePhoto',
      jobId: portrait.jobId,
    });
    assert.equal(check?.code, 'bad-option');
  });
});
