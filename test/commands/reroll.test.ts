/**
 * Re-rolls from job records across a restart (a new engine and new commands over the same
 * SQLite file), forget, cancel and delete.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { JobRecord, RerollMode } from '../../src/commands/index.ts';
import type { Reply } from '../../src/commands/types.ts';
import { UserError } from '../../src/engine/errors.ts';
import { tempDir } from '../helpers/packs.ts';
import { caller, collect, demoModels, last, PACK, photo, start, type Rig } from './setup.ts';

const astronaut = photo('astronaut.png');

describe('commands: re-roll, forget, cancel, delete', { timeout: 300_000 }, () => {
  const dir = tempDir('reroll');
  const url = `sqlite://${join(dir, 'cache.sqlite')}`;
  let models: string;
  let rig: Rig;
  before(async () => {
    models = await demoModels(dir);
    rig = await start(dir, models, url);
  });
  after(() => rig.close());

  const stylize = async (user: string, exemplar = 2) =>
    last(
      await collect((s) => rig.commands.stylize(caller(user), { photo: astronaut, exemplar }, s)),
      'result',
    );
  const reroll = (user: string, jobId: string, mode: RerollMode): Promise<Reply[]> =>
    collect((sink) => rig.commands.reroll(caller(user), { jobId, mode }, sink));
  const record = async (jobId: string): Promise<JobRecord> => {
    const found = await rig.commands.job(jobId);
    assert.ok(found, `a record for ${jobId}`);
    return found;
  };
  const seeds = (r: JobRecord) => {
    assert.equal(r.style.kind, 'sampled');
    return r.style.kind === 'sampled' ? [r.style.structureSeed, r.style.colorSeed] : [];
  };

  it('re-rolls after a restart from the cached photo; structure only keeps colour', async () => {
    const first = await stylize('alice');
    const styled = last(await reroll('alice', first.jobId, 'style'), 'result');
    const [structureA, colorA] = seeds(await record(styled.jobId));

    // A new process: a new engine and new commands over the same SQLite file.
    await rig.close();
    rig = await start(dir, models, url);

    const replies = await reroll('alice', styled.jobId, 'structure');
    const structured = last(replies, 'result');
    const stages = replies.flatMap((r) => (r.kind === 'status' && !r.preview ? [r.stage] : []));
    // A fresh engine loads the pack first ('warming-up'); then no aligning or encoding.
    assert.deepEqual(
      stages,
      ['warming-up', 'generating'],
      'the face code came from the cache, not the encoder',
    );
    const r = await record(structured.jobId);
    assert.deepEqual(r.face, (await record(first.jobId)).face, 'the same photo, by its key');
    assert.equal(r.parentJobId, styled.jobId);
    const [structureB, colorB] = seeds(r);
    assert.notEqual(structureB, structureA);
    assert.equal(colorB, colorA);
    assert.notDeepEqual(structured.image.bytes, styled.image.bytes);

    const colored = last(await reroll('alice', structured.jobId, 'color'), 'result');
    const [structureC, colorC] = seeds(await record(colored.jobId));
    assert.equal(structureC, structureB);
    assert.notEqual(colorC, colorB);
  });

  it('re-rolls an exemplar result to another exemplar, or to sampled seeds', async () => {
    const first = await stylize('alice', 5);
    const other = last(await reroll('alice', first.jobId, 'exemplar'), 'result');
    const style = (await record(other.jobId)).style;
    assert.ok(
      style.kind === 'exemplar' && style.id !== 5,
      `another exemplar, got ${JSON.stringify(style)}`,
    );
    assert.match(other.params.style, /^exemplar \d \(demo-0\d\.jpg\)$/);
    // The first structure-only re-roll of an exemplar result switches to sampled seeds.
    const sampled = last(await reroll('alice', first.jobId, 'structure'), 'result');
    assert.equal(seeds(await record(sampled.jobId)).length, 2);
    assert.equal(last(await reroll('alice', 'no-such-job', 'style'), 'error').code, 'unknown-job');
  });

  it('only the author re-rolls a photo result; anyone may re-roll a random portrait', async () => {
    const mine = await stylize('alice');
    const refused = last(await reroll('mallory', mine.jobId, 'style'), 'error');
    assert.equal(refused.code, 'not-author');
    const portrait = last(
      await collect((s) => rig.commands.styleRandom(caller('gina'), {}, s)),
      'result',
    );
    assert.equal((await record(portrait.jobId)).face.kind, 'random');
    last(await reroll('bob', portrait.jobId, 'color'), 'result');
  });

  it("forget deletes the user's cached entries; a re-roll then asks for the photo", async () => {
    // Before any photo: with no photo at all, style random makes a random portrait.
    const portrait = last(
      await collect((s) => rig.commands.styleRandom(caller('dora'), {}, s)),
      'result',
    );
    // Her own photo: a code the engine cached for another user is indexed under that user.
    const own = new Uint8Array(await sharp(astronaut).jpeg().toBuffer());
    const first = last(
      await collect((s) => rig.commands.stylize(caller('dora'), { photo: own }, s)),
      'result',
    );
    const photoKey = (await record(first.jobId)).face;
    assert.equal(photoKey.kind, 'photo');

    const info = last(await collect((s) => rig.commands.forget(caller('dora'), s)), 'info');
    assert.match(
      info.text,
      /deleted [1-9]\d* cached face codes? and removed your photos from [1-9]/,
    );

    // The engine's cache no longer has the face code.
    await assert.rejects(
      rig.engine.stylize({
        userId: 'test',
        face: { kind: 'cached-photo', key: photoKey.kind === 'photo' ? photoKey.key : '' },
        style: { kind: 'exemplar', pack: PACK },
      }),
      (e: unknown) => e instanceof UserError && e.code === 'photo-expired',
    );
    assert.deepEqual((await record(first.jobId)).face, { kind: 'forgotten' });
    const refused = last(await reroll('dora', first.jobId, 'style'), 'error');
    assert.equal(refused.code, 'photo-forgotten');
    assert.match(refused.text, /forget your photos.*Send the photo again/);
    const noPhoto = await collect((s) => rig.commands.stylize(caller('dora'), {}, s));
    assert.equal(last(noPhoto, 'error').code, 'no-photo', 'the last photo is forgotten too');
    // A random portrait holds nothing of the user's photos: it still re-rolls.
    last(await reroll('dora', portrait.jobId, 'style'), 'result');
  });

  it('cancel: refused for another user, done for the author', async () => {
    const running = collect((s) => rig.commands.stylize(caller('erin'), { photo: astronaut }, s));
    let queuedId: (id: string) => void = () => undefined;
    const queued = new Promise<string>((resolve) => (queuedId = resolve));
    const waiting = collect((sink) =>
      rig.commands.stylize(caller('erin'), { photo: astronaut, exemplar: 4 }, (reply) => {
        if (reply.kind === 'status' && reply.stage === 'queued') queuedId(reply.jobId);
        sink(reply);
      }),
    );
    const jobId = await queued;
    const cancel = (user: string) =>
      collect((s) => rig.commands.cancel(caller(user), { jobId }, s));
    assert.equal(last(await cancel('mallory'), 'error').code, 'not-author');
    assert.equal(last(await cancel('erin'), 'info').text, 'Cancelled.');
    assert.equal(last(await waiting, 'error').code, 'cancelled');
    const done = last(await running, 'result');
    assert.equal(
      last(await cancel('erin'), 'error').code,
      'unknown-job',
      'cancelled jobs leave no record',
    );
    const late = await collect((s) =>
      rig.commands.cancel(caller('erin'), { jobId: done.jobId }, s),
    );
    assert.equal(last(late, 'error').code, 'job-finished');
  });

  it('deleteResult: refused for another user, removes the record for the author', async () => {
    const result = await stylize('fred');
    const del = (user: string) =>
      collect((s) => rig.commands.deleteResult(caller(user), { jobId: result.jobId }, s));
    assert.equal(last(await del('mallory'), 'error').code, 'not-author');
    assert.ok(await rig.commands.job(result.jobId));
    assert.equal(last(await del('fred'), 'info').text, 'Deleted.');
    assert.equal(await rig.commands.job(result.jobId), undefined);
    assert.equal(last(await reroll('fred', result.jobId, 'style'), 'error').code, 'unknown-job');
  });
  it('close lets running jobs finish within the grace time, cancels the rest, refuses new ones', async () => {
    const closing = await start(dir, models, 'memory');
    const ask = () =>
      collect((s) => closing.commands.stylize(caller('hana'), { photo: astronaut }, s));
    const jobs = [ask(), ask()];
    await new Promise((resolve) => setImmediate(resolve));
    await closing.commands.close({ graceMs: 1 });
    const finals = (await Promise.all(jobs)).map((r) => r.at(-1));
    assert.deepEqual(
      finals.map((r) => (r?.kind === 'error' ? r.code : r?.kind)),
      ['cancelled', 'cancelled'],
    );
    const later = await collect((s) => closing.commands.help(caller('hana'), s));
    assert.equal(last(later, 'error').code, 'busy');
    await closing.engine.close();
  });
});
