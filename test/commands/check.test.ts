/** `check` (an image command's cheap refusals, taking nothing) and `refundQuota`. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers/packs.ts';
import { caller, collect, demoModels, last, photo, start, PACK, type Rig } from './setup.ts';

const astronaut = photo('astronaut.png');

describe('commands: check and refundQuota', { timeout: 300_000 }, () => {
  const dir = tempDir('check');
  let rig: Rig;
  before(async () => {
    rig = await start(dir, await demoModels(dir), 'memory', { LIMITS_PER_USER_PER_HOUR: '2' });
  });
  after(() => rig.close());

  it('answers what a command would refuse before any work', async () => {
    const { commands } = rig;
    const code = async (...args: Parameters<typeof commands.check>) =>
      (await commands.check(...args))?.code;
    const ann = caller('ann');
    assert.equal(await code(ann, { command: 'stylize', photo: false }), 'no-photo');
    assert.equal(await code(ann, { command: 'stylize', photo: true, pack: 'x' }), 'unknown-style');
    assert.equal(await code(ann, { command: 'styleRandom', pack: 'x' }), 'unknown-style');
    assert.equal(await code(ann, { command: 'stylize', photo: true, size: 32 }), 'bad-option');
    assert.equal(
      await code(ann, { command: 'stylize', photo: true, pack: PACK, size: 64 }),
      undefined,
    );
    assert.equal(
      await code(ann, { command: 'reroll', jobId: 'nope', mode: 'style' }),
      'unknown-job',
    );

    const done = last(
      await collect((sink) => commands.stylize(ann, { photo: astronaut }, sink)),
      'result',
    );
    // Now Ann has a last photo; Ben may not vary her face.
    assert.equal(await code(ann, { command: 'stylize', photo: false }), undefined);
    const reroll = { command: 'reroll', jobId: done.jobId, mode: 'color' } as const;
    assert.equal(await code(caller('ben'), reroll), 'not-author');
    assert.equal(await code(ann, reroll), undefined);
  });

  it('sees the hourly limit without using it; a refund gives one job back', async () => {
    const { commands } = rig;
    const cy = caller('cy');
    const ask = () => collect((sink) => commands.stylize(cy, { photo: astronaut }, sink));
    const check = () => commands.check(cy, { command: 'stylize', photo: true });
    // Checking takes nothing: two checks, then two jobs, all allowed.
    assert.equal(await check(), undefined);
    assert.equal(await check(), undefined);
    last(await ask(), 'result');
    last(await ask(), 'result');
    const refused = await check();
    assert.equal(refused?.code, 'rate-limited');
    assert.match(refused.text, /hourly limit.*Try again in/);
    await commands.refundQuota(cy);
    assert.equal(await check(), undefined);
    last(await ask(), 'result');
    assert.equal((await check())?.code, 'rate-limited');
  });
});
