/**
 * `whole photo`: a crop result pasted back into its photo, handed in again; the record's style
 * and options are kept, and only the author may ask.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { tempDir } from '../helpers/packs.ts';
import { caller, collect, demoModels, last, PACK, photo, start, type Rig } from './setup.ts';

describe('commands: whole photo', { timeout: 180_000 }, () => {
  const dir = tempDir('whole-photo');
  let rig: Rig;
  before(async () => {
    rig = await start(dir, await demoModels(dir), `sqlite://${join(dir, 'cache.sqlite')}`);
  });
  after(() => rig.close());

  const run = (who: string, jobId: string, bytes = photo('astronaut.png')) =>
    collect((sink) => rig.commands.wholePhoto(caller(who), { jobId, photo: bytes }, sink));

  it('pastes the crop’s style and options back into the photo at its own size', async () => {
    const crop = last(
      await collect((sink) =>
        rig.commands.stylize(
          caller('author'),
          { photo: photo('astronaut.png'), style: `${PACK}:3`, preset: 'colour-only' },
          sink,
        ),
      ),
      'result',
    );
    const whole = last(await run('author', crop.jobId), 'result');
    const [out, source] = await Promise.all([
      sharp(whole.image.bytes).metadata(),
      sharp(photo('astronaut.png')).metadata(),
    ]);
    assert.deepEqual([out.width, out.height], [source.width, source.height]);
    assert.equal(whole.params.reference, `${PACK}:3`);
    assert.equal(whole.params.faces, 1);
    const record = await rig.commands.job(whole.jobId);
    assert.equal(record?.parentJobId, crop.jobId);
    assert.equal(record?.options.preset, 'colour-only');
    assert.equal(record?.options.output, 'photo');

    assert.equal(last(await run('someone-else', crop.jobId), 'error').code, 'not-author');
    assert.equal(last(await run('author', 'no-such-job'), 'error').code, 'unknown-job');
  });

  it('refuses a grid (pick one first) and a random portrait (it has no photo)', async () => {
    const grid = last(
      await collect((sink) =>
        rig.commands.styleRandom(caller('grid'), { photo: photo('astronaut.png'), count: 4 }, sink),
      ),
      'result',
    );
    assert.equal(last(await run('grid', grid.jobId), 'error').code, 'bad-option');
    const portrait = last(
      await collect((sink) => rig.commands.styleRandom(caller('nobody'), {}, sink)),
      'result',
    );
    assert.equal(last(await run('nobody', portrait.jobId), 'error').code, 'photo-needed');
  });
});
