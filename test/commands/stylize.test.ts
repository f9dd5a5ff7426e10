/** stylize, style random, style list, help and privacy on the 64 px demo pack. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import sharp from 'sharp';
import { tempDir } from '../helpers/packs.ts';
import { caller, collect, demoModels, last, PACK, photo, start, type Rig } from './setup.ts';

describe('commands: stylize and friends', { timeout: 300_000 }, () => {
  const dir = tempDir('commands');
  let rig: Rig;
  before(async () => {
    rig = await start(dir, await demoModels(dir), `sqlite://${join(dir, 'cache.sqlite')}`);
    // As startApp does; a job whose pack is still loading reports 'warming-up' first
    // (test/engine/host.test.ts).
    await rig.engine.preload(PACK);
  });
  after(() => rig.close());

  it('stylize sends status replies as the job moves, then the result, and records it', async () => {
    const replies = await collect((sink) =>
      rig.commands.stylize(caller('alice'), { photo: photo('astronaut.png'), exemplar: 3 }, sink),
    );
    const result = last(replies, 'result');
    const statuses = replies.filter((r) => r.kind === 'status');
    assert.ok(statuses.length > 0, 'status replies come before the result');
    assert.deepEqual(
      statuses.map((s) => `${s.stage}${s.preview ? ' + preview' : ''}`),
      ['aligning', 'encoding', 'generating', 'generating + preview'],
    );
    assert.ok(statuses.every((s) => s.jobId === result.jobId));
    // The first look: a JPEG at a quarter of the result's side, just before the result.
    const { preview } = statuses.at(-1)!;
    assert.equal(replies.indexOf(statuses.at(-1)!), replies.indexOf(result) - 1);
    const look = await sharp(preview!.bytes).metadata();
    assert.deepEqual([look.format, look.width, look.height], ['jpeg', 16, 16]);
    const meta = await sharp(result.image.bytes).metadata();
    assert.deepEqual([meta.format, meta.width], ['jpeg', 64]);
    assert.deepEqual(result.params, {
      pack: PACK,
      style: 'exemplar 3 (demo-03.jpg)',
      structure: 0.6,
      color: 1,
      preserveColor: false,
      size: 64,
      faceCount: 1,
      reference: `${PACK}:3`,
    });
    assert.match(result.text, /demo-64 · exemplar 3 \(demo-03\.jpg\) · structure 0\.6/);

    const record = await rig.commands.job(result.jobId);
    assert.equal(record?.userId, 'alice');
    assert.equal(record?.face.kind, 'photo');
    assert.deepEqual(record?.style, { kind: 'exemplar', id: 3, name: 'demo-03.jpg' });
    assert.doesNotMatch(JSON.stringify(record), /https?:/, 'no URLs in a record');
  });

  it('stylize with no photo uses the last one the caller sent, from the cache', async () => {
    const replies = await collect((sink) =>
      rig.commands.stylize(caller('alice'), { exemplar: 'random' }, sink),
    );
    last(replies, 'result');
    const stages = replies.flatMap((r) => (r.kind === 'status' && !r.preview ? [r.stage] : []));
    assert.deepEqual(stages, ['generating'], 'the cached face code skips alignment and encoding');
    const none = await collect((sink) => rig.commands.stylize(caller('nobody'), {}, sink));
    assert.equal(last(none, 'error').code, 'no-photo');
  });

  it('a photo without a face gets the no-face sentence', async () => {
    const replies = await collect((sink) =>
      rig.commands.stylize(caller('alice'), { photo: photo('no_face_cat.png') }, sink),
    );
    const error = last(replies, 'error');
    assert.equal(error.code, 'no-face');
    assert.match(error.text, /No face found\. Try a front-facing photo/);
  });

  it('unknown styles, exemplars and out-of-range options are errors from the table', async () => {
    const astronaut = photo('astronaut.png');
    const run = async (input: Parameters<Rig['commands']['stylize']>[1]) =>
      last(await collect((sink) => rig.commands.stylize(caller('alice'), input, sink)), 'error')
        .code;
    assert.equal(await run({ photo: astronaut, pack: 'nope' }), 'unknown-style');
    assert.equal(await run({ photo: astronaut, exemplar: 'nope' }), 'unknown-exemplar');
    assert.equal(await run({ photo: astronaut, structure: 2 }), 'bad-option');
  });

  it('style random with no photo at all makes a random portrait', async () => {
    const replies = await collect((sink) => rig.commands.styleRandom(caller('carol'), {}, sink));
    const result = last(replies, 'result');
    assert.equal(result.params.faceCount, undefined);
    assert.match(result.text, /sampled style .* random face/);
    const record = await rig.commands.job(result.jobId);
    assert.equal(record?.face.kind, 'random');
    assert.equal(record?.style.kind, 'sampled');
    const again = last(
      await collect((sink) => rig.commands.styleRandom(caller('carol'), {}, sink)),
      'result',
    );
    assert.notDeepEqual(again.image.bytes, result.image.bytes, 'a new face and style each time');
  });

  it('style list gives the exemplars and a contact sheet, built once', async () => {
    const renders = mock.method(rig.engine, 'stylize');
    const info = last(
      await collect((sink) => rig.commands.styleList(caller('dan'), {}, sink)),
      'info',
    );
    assert.equal(renders.mock.callCount(), 8, 'one tile per exemplar');
    assert.match(info.text, /Installed styles \(exemplars\): demo-64 \(8\)/);
    assert.match(info.text, /Default weights: structure 0\.6, colour 1, truncation 0\.7/);
    assert.match(info.text, /Exemplars 0–7, .* 8 per row/);
    for (let i = 0; i < 8; i++) assert.match(info.text, new RegExp(`${i} demo-0${i}\\.jpg`));
    assert.ok(info.image, 'a contact sheet image');
    const meta = await sharp(info.image.bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 8 * 128, 128]);

    const again = last(
      await collect((sink) => rig.commands.styleList(caller('dan'), { pack: PACK }, sink)),
      'info',
    );
    assert.deepEqual(again.image?.bytes, info.image.bytes, 'the cached sheet');
    assert.equal(renders.mock.callCount(), 8, 'the second call renders nothing');
    renders.mock.restore();
  });

  it('help and privacy say what is kept, for how long, and how to delete it', async () => {
    const help = last(await collect((sink) => rig.commands.help(caller('e'), sink)), 'info');
    for (const c of rig.commands.catalogue()) assert.ok(help.text.includes(c.name), c.name);
    const privacy = last(await collect((sink) => rig.commands.privacy(caller('e'), sink)), 'info');
    // The default privacy.keepPhotosMinutes; 0 is in whole-photo.test.ts.
    assert.match(privacy.text, /Your photo itself for 10 minutes after you send it/);
    assert.match(help.text, /keep your photo 10 min after you send it, for `whole-photo`/);
    assert.match(privacy.text, /7 days/);
    assert.match(privacy.text, /`forget`/);
  });
});
