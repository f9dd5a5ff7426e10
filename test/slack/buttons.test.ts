/**
 * The buttons: 🎲 🧬 🎨 re-roll and Delete on a result (the result is a message whose image block
 * names a file uploaded without a channel, so its `ts` is known at once), Cancel on a status.
 * Cancel and Delete are the author's; anyone else hears so privately.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers/packs.ts';
import { buttonClick, nextResult, type Block, type PostedResult } from './flows.ts';
import { Harness, PACK } from './harness.ts';
import { eventRequest } from './signed.ts';

describe('slack buttons', { timeout: 180_000 }, () => {
  const dir = tempDir('slack-buttons');
  let h: Harness;
  let first: PostedResult;
  let mentions = 0;

  const mention = (user: string) =>
    eventRequest({
      type: 'app_mention',
      user,
      text: `<@UBOT> ${PACK}:3`,
      ts: `1699999600.00010${++mentions}`,
      channel: 'C1',
      files: [h.file('astronaut.png')],
    });
  const click = (user: string, on: PostedResult, actionId: string, value: string) =>
    h.send(
      buttonClick({
        user,
        channel: on.channel,
        message: { ts: on.ts, ...(on.threadTs && { thread_ts: on.threadTs }) },
        actionId,
        value,
        responseUrl: h.fake.responseUrl(`${user}-${actionId}`),
      }),
    );
  /** The job id the result's buttons carry. */
  const jobOf = (result: PostedResult): string =>
    result.blocks.find((b) => b.type === 'actions')!.elements![0]!.value!;

  before(async () => {
    h = await Harness.start(dir);
    const from = h.fake.calls.length;
    await h.send(mention('U1'));
    first = await nextResult(h.fake, from);
  });
  after(() => h.close());

  it('posts the result with its buttons after the file is ready (invalid_blocks retried)', () => {
    const refused = h.fake
      .of('chat.postMessage')
      .filter((c) => c.result.error === 'invalid_blocks');
    assert.ok(refused.length >= 1, 'the fake refused the first post while the file processed');
    assert.equal(first.threadTs, '1699999600.000101');
    assert.ok(h.fake.messages.has(`C1:${first.ts}`));
    assert.ok((first.blocks as Block[]).some((b) => b.slack_file?.id === first.fileId));
  });

  it('🧬 re-rolls the structure of that result in its thread; a photo is its author’s to vary', async () => {
    const responses = h.fake.responses.length;
    await click('U2', first, 'pastiche_reroll_structure', jobOf(first));
    assert.match(String((await h.fake.waitForResponse(responses)).text), /Only the person/);

    const from = h.fake.calls.length;
    const response = await click('U1', first, 'pastiche_reroll_structure', jobOf(first));
    assert.equal(response.status, 200);
    const reroll = await nextResult(h.fake, from);
    assert.equal(reroll.threadTs, first.threadTs);
    const record = await h.commands.job(jobOf(reroll));
    assert.equal(record?.parentJobId, jobOf(first));
    const parent = await h.commands.job(jobOf(first));
    assert.ok(parent?.style.kind === 'exemplar' && record?.style.kind === 'sampled');
  });

  it('Delete is the author’s: others are told privately, the author’s click removes message and file', async () => {
    let from = h.fake.responses.length;
    await click('U2', first, 'pastiche_delete', jobOf(first));
    const refusal = await h.fake.waitForResponse(from);
    assert.equal(refusal.response_type, 'ephemeral');
    assert.match(String(refusal.text), /Only the person who asked/);
    assert.ok(h.fake.messages.has(`C1:${first.ts}`), 'still there');

    from = h.fake.responses.length;
    const calls = h.fake.calls.length;
    await click('U1', first, 'pastiche_delete', jobOf(first));
    assert.match(String((await h.fake.waitForResponse(from)).text), /^Deleted\./);
    const deleted = await h.fake.waitFor('chat.delete', (a) => a.ts === first.ts, { from: calls });
    assert.equal(deleted.result.ok, true);
    const file = await h.fake.waitFor('files.delete', undefined, { from: calls });
    assert.equal(file.args.file, first.fileId);
    assert.equal(file.result.ok, true);
    assert.equal(await h.commands.job(jobOf(first)), undefined, 'the record is gone');
  });

  it('Cancel on the status stops the job; the status says so and loses its button', async () => {
    const release = h.holdJobs();
    try {
      let from = h.fake.calls.length;
      await h.send(mention('U3'));
      const status = await h.fake.waitFor('chat.postMessage', (a) => a.channel === 'C1', { from });
      const cancel = (status.args.blocks as Block[]).find((b) => b.type === 'actions')!;
      const button = cancel.elements![0]!;
      assert.equal(button.action_id, 'pastiche_cancel');
      const on = {
        channel: 'C1',
        ts: String(status.result.ts),
        threadTs: String(status.args.thread_ts),
      } as PostedResult;

      // Someone else's click is refused, privately.
      let responses = h.fake.responses.length;
      await click('U1', on, 'pastiche_cancel', button.value!);
      assert.match(String((await h.fake.waitForResponse(responses)).text), /Only the person/);

      responses = h.fake.responses.length;
      from = h.fake.calls.length;
      await click('U3', on, 'pastiche_cancel', button.value!);
      assert.match(String((await h.fake.waitForResponse(responses)).text), /^Cancelled\./);
      const edit = await h.fake.waitFor('chat.update', (a) => /:warning:/.test(String(a.text)), {
        from,
      });
      assert.equal(edit.args.ts, on.ts);
      assert.ok(!JSON.stringify(edit.args.blocks).includes('pastiche_cancel'));
      assert.equal(h.fake.of('files.getUploadURLExternal', from).length, 0, 'no result');
    } finally {
      release();
    }
  });
});
