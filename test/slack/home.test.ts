/**
 * The App Home tab: opening it publishes the user's latest results (from the job records), the
 * installed styles (a contact sheet on request, uploaded once and shown as an image), and the
 * privacy statement with "Forget my photos"; its buttons act and publish the tab again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers/packs.ts';
import { homeClick, nextResult, type Block, type PostedResult } from './flows.ts';
import { Harness, PACK } from './harness.ts';
import { eventRequest } from './signed.ts';

describe('slack App Home', { timeout: 180_000 }, () => {
  const dir = tempDir('slack-home');
  let h: Harness;
  let result: PostedResult;

  const open = (user: string) =>
    h.send(
      eventRequest({
        type: 'app_home_opened',
        user,
        channel: `D${user}`,
        tab: 'home',
        event_ts: `${Date.now() / 1000}`,
      }),
    );
  /** The next Home published for `user` after call index `from`. */
  const published = async (user: string, from: number): Promise<Block[]> => {
    const call = await h.fake.waitFor('views.publish', (a) => a.user_id === user, { from });
    const view = call.args.view as { type: string; blocks: Block[] };
    assert.equal(view.type, 'home');
    return view.blocks;
  };
  const texts = (blocks: Block[]) => blocks.map((b) => b.text?.text ?? '').join('\n');

  before(async () => {
    h = await Harness.start(dir);
    const from = h.fake.calls.length;
    await h.send(
      eventRequest({
        type: 'app_mention',
        user: 'U1',
        text: `<@UBOT> ${PACK}:2`,
        ts: '1699999900.000100',
        channel: 'C1',
        files: [h.file('astronaut.png')],
      }),
    );
    result = await nextResult(h.fake, from);
  });
  after(() => h.close());

  it('lists the user’s results, the styles and the privacy controls', async () => {
    const from = h.fake.calls.length;
    await open('U1');
    const blocks = await published('U1', from);
    const all = texts(blocks);
    assert.match(all, /in <#C1>: demo-64, exemplar 2 \(demo-02\.jpg\)/);
    const del = blocks.find((b) => b.accessory?.action_id === 'pastiche_home_delete');
    assert.ok(del?.accessory?.value, 'each result has Delete');
    assert.match(all, /\*demo-64\*: 8 exemplars, 64 px/);
    assert.ok(blocks.some((b) => b.accessory?.action_id === 'pastiche_home_sheet'));
    assert.match(all, /What I keep/);
    const forget = blocks.find((b) => b.type === 'actions')?.elements?.[0];
    assert.equal(forget?.action_id, 'pastiche_home_forget');

    // Someone else's Home has none of U1's results.
    const other = h.fake.calls.length;
    await open('U2');
    const theirs = await published('U2', other);
    assert.ok(!texts(theirs).includes('<#C1>'));
    assert.match(JSON.stringify(theirs), /None yet: use `\/stylize`, or send me a photo in a DM\./);
  });

  it('"Show contact sheet" uploads the sheet once and shows it as an image', async () => {
    const from = h.fake.calls.length;
    await h.send(homeClick('U1', 'pastiche_home_sheet', PACK));
    const upload = await h.fake.waitFor('files.completeUploadExternal', undefined, { from });
    assert.equal(upload.args.channel_id, undefined, 'shared nowhere');
    const fileId = (upload.args.files as { id: string }[])[0]!.id;
    const blocks = await published('U1', from);
    assert.ok(blocks.some((b) => b.type === 'image' && b.slack_file?.id === fileId));

    // Another user's Home shows the same file: no second render or upload.
    const again = h.fake.calls.length;
    await open('U3');
    const theirs = await published('U3', again);
    assert.ok(theirs.some((b) => b.slack_file?.id === fileId));
    assert.equal(h.fake.of('files.getUploadURLExternal', again).length, 0);
  });

  it('Delete in Home removes the result’s message and file, then the list no longer has it', async () => {
    const from = h.fake.calls.length;
    const jobId = result.blocks.find((b) => b.type === 'actions')!.elements![0]!.value!;
    await h.send(homeClick('U1', 'pastiche_home_delete', jobId));
    const blocks = await published('U1', from);
    assert.match(texts(blocks), /^Deleted\./m);
    assert.ok(!texts(blocks).includes('<#C1>'));
    assert.equal(h.fake.of('chat.delete', from)[0]?.args.ts, result.ts);
    assert.equal(h.fake.of('files.delete', from)[0]?.args.file, result.fileId);
  });

  it('"Forget my photos" runs forget and says what it deleted', async () => {
    const from = h.fake.calls.length;
    await h.send(homeClick('U1', 'pastiche_home_forget', 'forget'));
    const blocks = await published('U1', from);
    assert.match(texts(blocks), /^Done\. I deleted 1 cached face code/m);
  });
});
