/**
 * Issue 13 in the command layer: references that reproduce, style blend and its strip, the
 * random grid and pick, the 🔀 re-roll, every face of a group photo and what it costs in limits.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { Reply } from '../../src/commands/types.ts';
import { tempDir } from '../helpers/packs.ts';
import { caller, collect, demoModels, last, PACK, photo, start, type Rig } from './setup.ts';

type Result = Extract<Reply, { kind: 'result' }>;

/** The references a result's text offers (one, or one per tile). */
const references = (result: Result): string[] =>
  [...result.text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

describe('commands: references, fusion, grid, group photos', { timeout: 300_000 }, () => {
  const dir = tempDir('styles');
  let rig: Rig;
  let models: string;
  before(async () => {
    models = await demoModels(dir);
    rig = await start(dir, models, `sqlite://${join(dir, 'cache.sqlite')}`, {
      LIMITS_PER_USER_PER_HOUR: '9',
    });
  });
  after(() => rig.close());

  const stylize = async (who: string, input: Parameters<Rig['commands']['stylize']>[1]) =>
    last(await collect((sink) => rig.commands.stylize(caller(who), input, sink)), 'result');

  it('a reference printed by a result reproduces the same image on the same photo', async () => {
    const first = await stylize('ref', { photo: photo('astronaut.png'), exemplar: 'demo-05' });
    assert.deepEqual(references(first), [`${PACK}:5`]);
    assert.equal(first.params.reference, `${PACK}:5`);
    const again = await stylize('ref', { photo: photo('astronaut.png'), style: `${PACK}:5` });
    assert.deepEqual(again.image.bytes, first.image.bytes);
    // By the result's id, too, onto another user's photo (the same photo here: same bytes).
    const byId = await stylize('friend', {
      photo: photo('astronaut.png'),
      style: `result:${first.jobId}`,
    });
    assert.deepEqual(byId.image.bytes, first.image.bytes);
    const bad = await collect((sink) =>
      rig.commands.stylize(caller('ref'), { style: 'demo-64:5@0.5' }, sink),
    );
    assert.equal(last(bad, 'error').code, 'bad-style-ref');
  });

  it('style blend: ratio 0 and 1 are the two styles, a strip goes from one to the other', async () => {
    const a = await stylize('blend', { photo: photo('astronaut.png'), style: `${PACK}:1` });
    const b = await stylize('blend', { style: `${PACK}:random:s:c` });
    const blend = async (ratio: number) =>
      last(
        await collect((sink) =>
          rig.commands.styleBlend(
            caller('blend'),
            { a: '1', b: `${PACK}:random:s:c`, ratio },
            sink,
          ),
        ),
        'result',
      );
    assert.deepEqual((await blend(0)).image.bytes, a.image.bytes);
    assert.deepEqual((await blend(1)).image.bytes, b.image.bytes);
    const half = await blend(0.5);
    assert.deepEqual(references(half), [`${PACK}:1+random:s:c@0.5`]);
    // The printed reference of a fusion reproduces it as well.
    const again = await stylize('blend', { style: references(half)[0]! });
    assert.deepEqual(again.image.bytes, half.image.bytes);

    const strip = last(
      await collect((sink) =>
        rig.commands.styleBlend(caller('blend'), { a: '1', b: '4', strip: true }, sink),
      ),
      'result',
    );
    const meta = await sharp(strip.image.bytes).metadata();
    assert.deepEqual([meta.width, meta.height], [6 * 64, 64]);
    assert.equal(strip.params.tiles, 6);
    assert.deepEqual(
      references(strip),
      [0, 0.2, 0.4, 0.6, 0.8, 1].map((r) => `${PACK}:1+4@${r}`),
    );
  });

  it('style random count:4 is one 2×2 picture of four styles; pick keeps one at full size', async () => {
    await stylize('grid', { photo: photo('astronaut.png') });
    const grid = last(
      await collect((sink) => rig.commands.styleRandom(caller('grid'), { count: 4 }, sink)),
      'result',
    );
    const meta = await sharp(grid.image.bytes).metadata();
    assert.deepEqual([meta.width, meta.height], [128, 128]);
    const refs = references(grid);
    assert.equal(new Set(refs).size, 4, 'four distinct styles');
    const kept = last(
      await collect((sink) =>
        rig.commands.pick(caller('grid'), { jobId: grid.jobId, tile: 3 }, sink),
      ),
      'result',
    );
    assert.equal(kept.params.reference, refs[2]);
    const direct = await stylize('grid', { style: refs[2]! });
    assert.deepEqual(kept.image.bytes, direct.image.bytes);
    const none = await collect((sink) =>
      rig.commands.pick(caller('grid'), { jobId: grid.jobId, tile: 5 }, sink),
    );
    assert.equal(last(none, 'error').code, 'bad-option');
  });

  it('🔀 fuses the style with a new one, and again replaces only the second style', async () => {
    const first = await stylize('fuse', { photo: photo('astronaut.png'), exemplar: 2 });
    const fuse = async (jobId: string) =>
      last(
        await collect((sink) => rig.commands.reroll(caller('fuse'), { jobId, mode: 'fuse' }, sink)),
        'result',
      );
    const fused = await fuse(first.jobId);
    assert.match(fused.params.reference, new RegExp(`^${PACK}:2\\+random:\\w+:\\w+@0\\.5$`));
    const refused = await fuse(fused.jobId);
    assert.match(refused.params.reference, new RegExp(`^${PACK}:2\\+random:\\w+:\\w+@0\\.5$`));
    assert.notEqual(refused.params.reference, fused.params.reference);
  });

  it('every face of a group photo, pasted back; each face counts against the hourly limit', async () => {
    const group = await stylize('group', { photo: photo('two_faces.png'), allFaces: true });
    const source = await sharp(photo('two_faces.png')).metadata();
    const meta = await sharp(group.image.bytes).metadata();
    assert.deepEqual([meta.width, meta.height], [source.width, source.height]);
    assert.equal(group.params.faces, 2);
    assert.match(group.text, /2 faces stylized/);
    // Without the photo itself there is nothing to paste into (only face codes are kept).
    const noPhoto = await collect((sink) =>
      rig.commands.stylize(caller('group'), { allFaces: true }, sink),
    );
    assert.equal(last(noPhoto, 'error').code, 'photo-needed');
    // The hour allows 9 images: 2 for the first group photo, 1 for the failed job (admitted
    // before it failed), then group photos of two faces fit three more times (admitted at 3, 5
    // and 7), then nothing; single portraits would have fitted six more times.
    let more = 0;
    for (;;) {
      const replies = await collect((sink) =>
        rig.commands.stylize(
          caller('group'),
          { photo: photo('two_faces.png'), allFaces: true },
          sink,
        ),
      );
      const reply = replies.at(-1)!;
      if (reply.kind === 'error') {
        assert.equal(reply.code, 'rate-limited');
        break;
      }
      more++;
    }
    assert.equal(more, 3);
  });
});
