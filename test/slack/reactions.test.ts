/**
 * Re-rolls by reaction: 🎲 on a result posts a new one made from the same photo; reactions on
 * other messages (or other emoji, or the bot's own) do nothing; after a restart on the same
 * SQLite file, 🧬 and 🎨 still re-roll results posted before it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers/packs.ts';
import { nextResult, type PostedResult } from './flows.ts';
import { Harness, PACK } from './harness.ts';
import { eventRequest } from './signed.ts';

describe('slack re-roll by reaction', { timeout: 180_000 }, () => {
  const dir = tempDir('slack-reactions');
  let h: Harness;
  let first: PostedResult;
  let reroll: PostedResult;

  const react = (reaction: string, ts: string, user = 'U1', channel = 'C1') =>
    h.send(
      eventRequest({
        type: 'reaction_added',
        user,
        reaction,
        item_user: 'UBOT',
        item: { type: 'message', channel, ts },
        event_ts: `${Date.now() / 1000}`,
      }),
    );

  /** The job id of a posted result, from the file name the adapter gave it. */
  const jobOf = (result: PostedResult): string => {
    const name = h.fake.calls.find(
      (c) => c.method === 'files.getUploadURLExternal' && c.result.file_id === result.fileId,
    )?.args.filename;
    const match = /^pastiche-demo-64-(.+)\.jpg$/.exec(String(name));
    assert.ok(match, `file name ${String(name)}`);
    return match[1]!;
  };

  before(async () => {
    h = await Harness.start(dir);
    const from = h.fake.calls.length;
    await h.send(
      eventRequest({
        type: 'app_mention',
        user: 'U1',
        text: `<@UBOT> ${PACK}:3`,
        ts: '1699999300.000100',
        channel: 'C1',
        files: [h.file('astronaut.png')],
      }),
    );
    first = await nextResult(h.fake, from);
  });
  after(() => h.close());

  it(':game_die: on a result posts a new style of the same photo', async () => {
    const from = h.fake.calls.length;
    assert.equal((await react('game_die', first.ts)).status, 200);
    reroll = await nextResult(h.fake, from);
    assert.equal(reroll.channel, 'C1');
    assert.equal(reroll.threadTs, '1699999300.000100', 'in the thread of the result');
    assert.notDeepEqual(reroll.bytes, first.bytes);
    const record = await h.commands.job(jobOf(reroll));
    assert.equal(record?.parentJobId, jobOf(first));
    assert.equal(record?.face.kind, 'photo');
    assert.equal(record?.style.kind, 'sampled');
  });

  it('ignores reactions on other messages, other emoji and its own', async () => {
    const from = h.fake.calls.length;
    for (const response of [
      await react('game_die', '1699999300.000100'), // the mention, not a result
      await react('game_die', first.ts, 'U1', 'C9'), // same ts, another channel
      await react('thumbsup', first.ts),
      await react('game_die', first.ts, 'UBOT'), // the bot's seeded 🎲
    ]) {
      assert.equal(response.status, 200);
    }
    // A reaction that does re-roll, sent after them: a job any of them had started would be in
    // line before it, so its result came first.
    assert.equal((await react('dna', first.ts)).status, 200);
    const barrier = await nextResult(h.fake, from);
    const uploads = h.fake.calls
      .slice(from)
      .filter((c) => c.method === 'files.completeUploadExternal');
    assert.deepEqual(
      uploads.map((c) => (c.args.files as { id: string }[])[0]!.id),
      [barrier.fileId],
      'only the last reaction made a result',
    );
    assert.deepEqual(
      h.fake.calls
        .slice(from)
        .filter((c) => c.args.channel !== undefined && c.args.channel !== 'C1'),
      [],
      'nothing went to the other channel',
    );
  });

  it('still re-rolls results posted before a restart (keyv on SQLite)', async () => {
    await h.restart();
    let from = h.fake.calls.length;
    await react('dna', first.ts);
    const structure = await nextResult(h.fake, from);
    const fromFirst = await h.commands.job(jobOf(structure));
    assert.equal(fromFirst?.parentJobId, jobOf(first));

    // 🎨 on the sampled re-roll: new colours, the same structure.
    from = h.fake.calls.length;
    await react('art', reroll.ts);
    const colour = await nextResult(h.fake, from);
    const parent = await h.commands.job(jobOf(reroll));
    const child = await h.commands.job(jobOf(colour));
    assert.equal(child?.parentJobId, parent?.jobId);
    assert.ok(parent?.style.kind === 'sampled' && child?.style.kind === 'sampled');
    assert.equal(child.style.structureSeed, parent.style.structureSeed);
    assert.notEqual(child.style.colorSeed, parent.style.colorSeed);
  });
});
