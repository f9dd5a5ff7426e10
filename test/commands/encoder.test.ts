/**
 * Results remember their encoder: a re-roll, pick or whole photo of a result made with the identity (W+)
 * encoder uses it again, and so reads the cached W+ code, even after the server's default
 * encoder changed to the style (z+) one.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Reply } from '../../src/commands/types.ts';
import { tempDir } from '../helpers/packs.ts';
import { caller, collect, demoModels, last, photo, start, type Rig } from './setup.ts';

const astronaut = photo('astronaut.png');
const KEEP_MS = 10 * 60_000;
const stages = (replies: Reply[]): string[] =>
  replies.flatMap((r) => (r.kind === 'status' ? [r.stage] : []));

describe('commands: a result keeps its encoder', { timeout: 300_000 }, () => {
  const dir = tempDir('encoder-record');
  const url = `sqlite://${join(dir, 'cache.sqlite')}`;
  let models: string;
  let rig: Rig;
  before(async () => {
    models = await demoModels(dir);
    rig = await start(dir, models, url, {}, { encoder: 'identity', keepPhotosMs: KEEP_MS });
  });
  after(() => rig.close());

  it('re-rolls, picks and pastes back with the W+ encoder after the default became z+', async () => {
    const made = last(
      await collect((s) => rig.commands.stylize(caller('ada'), { photo: astronaut }, s)),
      'result',
    );
    assert.equal((await rig.commands.job(made.jobId))?.options.encoder, 'identity');
    const grid = last(
      await collect((s) => rig.commands.styleRandom(caller('ada'), { count: 4 }, s)),
      'result',
    );
    assert.equal((await rig.commands.job(grid.jobId))?.options.encoder, 'identity');

    // A restart with the other default: only the W+ code of the photo is cached.
    await rig.close();
    rig = await start(dir, models, url, {}, { encoder: 'style', keepPhotosMs: KEEP_MS });

    // Without a record to follow, the photo goes through the z+ encoder: it is not cached.
    const fresh = await collect((s) => rig.commands.stylize(caller('ada'), {}, s));
    assert.equal(last(fresh, 'error').code, 'photo-expired');

    const rerolled = await collect((s) =>
      rig.commands.reroll(caller('ada'), { jobId: made.jobId, mode: 'exemplar' }, s),
    );
    const again = last(rerolled, 'result');
    assert.ok(!stages(rerolled).includes('encoding'), 'the cached W+ code, no encoder run');
    assert.equal((await rig.commands.job(again.jobId))?.options.encoder, 'identity');

    const picked = await collect((s) =>
      rig.commands.pick(caller('ada'), { jobId: grid.jobId, tile: 2 }, s),
    );
    last(picked, 'result');
    assert.ok(!stages(picked).includes('encoding'));

    // The whole photo: the kept photo, and the W+ code of its face (no encoder run either).
    const pasted = await collect((s) =>
      rig.commands.wholePhoto(caller('ada'), { jobId: made.jobId }, s),
    );
    const whole = last(pasted, 'result');
    assert.ok(!stages(pasted).includes('encoding'));
    assert.equal((await rig.commands.job(whole.jobId))?.options.encoder, 'identity');
  });
});
