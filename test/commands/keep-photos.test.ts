/**
 * `privacy.keepPhotosMinutes`: a sent photo is kept that long (per user, in the latent cache) so
 * `whole-photo` can paste a crop result back into it; then, or after `forget`/`delete`, or with
 * 0, the photo is needed again. Time moves on a fake clock.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import sharp from 'sharp';
import type { Reply } from '../../src/commands/types.ts';
import { UserError } from '../../src/engine/errors.ts';
import { tempDir } from '../helpers/packs.ts';
import { caller, collect, demoModels, last, PACK, photo, start, type Rig } from './setup.ts';

const astronaut = photo('astronaut.png');
const MINUTE = 60_000;
const stages = (replies: Reply[]): string[] =>
  replies.flatMap((r) => (r.kind === 'status' ? [r.stage] : []));

describe('commands: photos kept briefly for whole-photo', { timeout: 300_000 }, () => {
  const dir = tempDir('keep-photos');
  let models: string;
  let rig: Rig;
  before(async () => {
    models = await demoModels(dir);
    rig = await start(
      dir,
      models,
      `sqlite://${join(dir, 'cache.sqlite')}`,
      { PRIVACY_KEEP_PHOTOS_MINUTES: '10' },
      { keepPhotosMs: 10 * MINUTE },
    );
  });
  after(() => rig.close());

  const crop = async (user: string) =>
    last(
      await collect((s) => rig.commands.stylize(caller(user), { photo: astronaut }, s)),
      'result',
    );
  const whole = (user: string, jobId: string): Promise<Reply[]> =>
    collect((s) => rig.commands.wholePhoto(caller(user), { jobId }, s));
  /** Whether the engine still pastes into `user`'s photo `key` without the photo attached. */
  const pastes = (user: string, key: string): Promise<boolean> =>
    rig.engine
      .stylize({
        userId: `playground:${user}`,
        face: { kind: 'cached-photo', key },
        style: { kind: 'exemplar', pack: PACK, exemplar: 0 },
        output: 'photo',
      })
      .then(
        () => true,
        (error: unknown) => {
          if (error instanceof UserError) return false;
          throw error;
        },
      );
  const keyOf = async (jobId: string): Promise<string> => {
    const face = (await rig.commands.job(jobId))?.face;
    assert.ok(face?.kind === 'photo');
    return face.key;
  };

  it('pastes a crop result into the kept photo, for its author only, until it expires', async (t) => {
    // The clock stands still from before the photo is kept: the jobs' own time does not count.
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    t.after(() => mock.timers.reset());
    const made = await crop('ada');
    const key = await keyOf(made.jobId);
    const replies = await whole('ada', made.jobId);
    const result = last(replies, 'result');
    const [got, sent] = await Promise.all([
      sharp(result.image.bytes).metadata(),
      sharp(astronaut).metadata(),
    ]);
    assert.deepEqual([got.width, got.height], [sent.width, sent.height], 'the whole photo');
    assert.ok(!stages(replies).includes('encoding'), 'the cached code, the kept photo');
    assert.equal((await rig.commands.job(result.jobId))?.options.output, 'photo');

    assert.equal(last(await whole('bob', made.jobId), 'error').code, 'not-author');
    assert.equal(await pastes('bob', key), false, "another user's request never finds it");

    mock.timers.tick(10 * MINUTE - 1);
    assert.equal(await pastes('ada', key), true, 'still kept just before the time is up');
    mock.timers.tick(2);
    // Using the photo did not extend its time.
    assert.equal(last(await whole('ada', made.jobId), 'error').code, 'photo-needed');
  });

  it('forget and delete remove the kept photo', async () => {
    const made = await crop('cy');
    const key = await keyOf(made.jobId);
    const info = last(await collect((s) => rig.commands.forget(caller('cy'), s)), 'info');
    assert.match(info.text, /any photo I still kept is gone/);
    assert.equal(await pastes('cy', key), false);

    const again = await crop('dee');
    const deeKey = await keyOf(again.jobId);
    assert.equal(await pastes('dee', deeKey), true);
    last(
      await collect((s) => rig.commands.deleteResult(caller('dee'), { jobId: again.jobId }, s)),
      'info',
    );
    // The face code stays (until forget), so only the missing photo can make this fail.
    assert.equal(await pastes('dee', deeKey), false);
    const code = await rig.engine.stylize({
      userId: 'playground:dee',
      face: { kind: 'cached-photo', key: deeKey },
      style: { kind: 'exemplar', pack: PACK, exemplar: 0 },
    });
    assert.equal(code.cacheHit, true);
  });

  it('keeps no photo with 0, and says so', async () => {
    const sub = tempDir('keep-none');
    const none = await start(sub, models, `sqlite://${join(sub, 'cache.sqlite')}`, {
      PRIVACY_KEEP_PHOTOS_MINUTES: '0',
    });
    try {
      const made = last(
        await collect((s) => none.commands.stylize(caller('eve'), { photo: astronaut }, s)),
        'result',
      );
      const refused = await collect((s) =>
        none.commands.wholePhoto(caller('eve'), { jobId: made.jobId }, s),
      );
      assert.equal(last(refused, 'error').code, 'photo-needed');
      const privacy = last(await collect((s) => none.commands.privacy(caller('eve'), s)), 'info');
      assert.match(privacy.text, /Never your photos/);
      const help = last(await collect((s) => none.commands.help(caller('eve'), s)), 'info');
      assert.match(help.text, /never keep your photo/);
    } finally {
      await none.close();
    }
  });
});
