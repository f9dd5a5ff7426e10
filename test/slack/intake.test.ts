/**
 * The ways a photo reaches the Slack app, through the real Bolt app and signed requests: the
 * `/stylize` modal (typed options, type-ahead, a photo shared just before, an upload), the
 * "Stylize photo" message shortcut, `@Pastiche` with an image, and `/stylize help`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers/packs.ts';
import { Harness, PACK } from './harness.ts';
import {
  isJpeg,
  nextResult,
  openedView,
  selected,
  uploadedFile,
  viewSubmission,
  type Block,
} from './flows.ts';
import { commandRequest, eventRequest, payloadRequest, TEAM } from './signed.ts';

describe('slack intake', { timeout: 180_000 }, () => {
  const dir = tempDir('slack-intake');
  let h: Harness;
  before(async () => {
    h = await Harness.start(dir);
  });
  after(() => h.close());

  const stylize = (text: string, user = 'U1', channel = 'C1') =>
    commandRequest({
      command: '/stylize',
      text,
      user,
      channel,
      responseUrl: h.fake.responseUrl(`${user}-${Date.now()}`),
    });

  it('/stylize opens the modal, filled in from the typed options', async () => {
    const from = h.fake.calls.length;
    const response = await h.send(stylize(`${PACK}:3 structure=0.6 preserve`));
    assert.equal(response.status, 200);
    const view = openedView(await h.fake.waitFor('views.open', undefined, { from }));
    assert.equal(view.callback_id, 'pastiche_stylize');
    const block = (id: string) => view.blocks.find((b) => b.block_id === id)?.element ?? {};
    assert.equal(block('photo').type, 'file_input');
    assert.deepEqual(block('photo').filetypes, ['jpg', 'jpeg', 'png', 'webp']);
    assert.equal(block('photo').max_files, 1);
    assert.equal(block('pack').type, 'external_select');
    assert.deepEqual((block('pack').initial_option as { value: string }).value, PACK);
    assert.equal((block('exemplar').initial_option as { value: string }).value, `${PACK}:3`);
    assert.equal(block('structure').initial_value, '0.6');
    assert.ok(block('preserve').initial_options, 'preserve colour is ticked');
    assert.equal(
      view.blocks.find((b) => b.block_id === 'offered'),
      undefined,
      'no photo to offer yet',
    );
  });

  it('answers a typo at once, only to its author, and opens nothing', async () => {
    const from = h.fake.calls.length;
    const response = await h.send(stylize('nosuchstyle'));
    assert.equal(response.status, 200);
    assert.match(response.text, /I don't know the style "nosuchstyle"\. Installed: demo-64/);
    const bad = await h.send(stylize('structure=2'));
    assert.match(bad.text, /structure must be a number from 0 to 1/);
    assert.equal(h.fake.of('views.open', from).length, 0);
  });

  it('offers packs and exemplars as you type (options requests)', async () => {
    const request = (action: string, value: string, pack?: string) =>
      payloadRequest({
        type: 'block_suggestion',
        action_id: action,
        block_id: action,
        value,
        api_app_id: 'A1',
        token: 'legacy-verification-token',
        team: { id: TEAM, domain: 'example' },
        user: { id: 'U1', name: 'u1', team_id: TEAM },
        container: { type: 'view', view_id: 'V1' },
        view: {
          id: 'V1',
          callback_id: 'pastiche_stylize',
          state: { values: pack ? { pack: { pack: selected(pack) } } : {} },
        },
      });
    const packs = JSON.parse((await h.send(request('pack', 'demo'))).text) as {
      options: { value: string }[];
    };
    assert.deepEqual(
      packs.options.map((o) => o.value),
      [PACK],
    );
    const all = JSON.parse((await h.send(request('exemplar', '', PACK))).text) as {
      options: { value: string; text: { text: string } }[];
    };
    assert.equal(all.options.length, 8);
    assert.equal(all.options[2]!.value, `${PACK}:2`);
    assert.match(all.options[2]!.text.text, /^2 · demo-02/);
    const typed = JSON.parse((await h.send(request('exemplar', '05', PACK))).text) as {
      options: { value: string }[];
    };
    assert.deepEqual(
      typed.options.map((o) => o.value),
      [`${PACK}:5`],
    );
  });

  it('a modal submission with an uploaded photo ends in a result uploaded in three steps', async () => {
    let from = h.fake.calls.length;
    await h.send(stylize(''));
    const view = openedView(await h.fake.waitFor('views.open', undefined, { from }));
    from = h.fake.calls.length;
    const submit = await h.send(
      viewSubmission(view, 'U1', {
        ...uploadedFile(h.file('astronaut.png')),
        pack: { pack: selected(PACK) },
        exemplar: { exemplar: selected(`${PACK}:2`) },
        structure: { structure: { type: 'number_input', value: '0.5' } },
      }),
    );
    assert.equal(submit.status, 200);
    assert.equal(submit.text, '', 'the modal closes');
    const status = await h.fake.waitFor('chat.postMessage', undefined, { from });
    assert.equal(status.args.channel, 'C1');
    assert.match(String(status.args.text), /^<@U1> /);
    const result = await nextResult(h.fake, from);
    assert.ok(isJpeg(result.bytes));
    assert.equal(result.channel, 'C1');
    assert.equal(result.threadTs, undefined);
    assert.match(result.text, /demo-64 · exemplar 2 \(demo-02\.jpg\) · structure 0\.5/);
    const buttons = result.blocks.find((b) => b.type === 'actions')?.elements ?? [];
    assert.deepEqual(
      buttons.map((b) => b.action_id),
      [
        'pastiche_reroll_style',
        'pastiche_reroll_structure',
        'pastiche_reroll_color',
        'pastiche_reroll_fuse',
        'pastiche_whole_photo',
        'pastiche_delete',
      ],
    );
    assert.match(
      JSON.stringify(result.blocks),
      /:game_die:.*:dna:.*:art:.*:twisted_rightwards_arrows:/,
    );
    const deleted = await h.fake.waitFor('chat.delete', undefined, { from });
    assert.equal(deleted.args.ts, status.result.ts, 'the status message makes way for the result');
    const updates = h.fake.of('chat.update', from);
    assert.ok(
      updates.length > 0 && updates.every((u) => u.args.ts === status.result.ts),
      'one status message',
    );
    assert.equal(h.fake.of('files.info', from).length, 0, 'the ts came with the post: no polling');
    const cancel = (status.args.blocks as Block[]).find((b) => b.type === 'actions');
    assert.equal(cancel?.elements?.[0]?.action_id, 'pastiche_cancel', 'the status has Cancel');
  });

  it('offers the photo the user just shared in the channel, and uses it', async () => {
    await h.send(
      eventRequest({
        type: 'message',
        subtype: 'file_share',
        user: 'U5',
        text: '',
        ts: '1699999000.000100',
        channel: 'C5',
        channel_type: 'channel',
        files: [h.file('astronaut.png')],
      }),
    );
    let from = h.fake.calls.length;
    await h.send(stylize('', 'U5', 'C5'));
    const view = openedView(await h.fake.waitFor('views.open', undefined, { from }));
    const offer = view.blocks.find((b) => b.block_id === 'offered')?.element;
    assert.ok(offer, 'the shared photo is offered');
    assert.match(
      JSON.stringify(offer),
      /the photo you shared (just now|1 min ago) \(astronaut\.png\)/,
    );
    from = h.fake.calls.length;
    const ticked = { type: 'checkboxes', selected_options: [{ value: 'yes' }] };
    await h.send(viewSubmission(view, 'U5', { offered: { offered: ticked } }));
    const result = await nextResult(h.fake, from);
    assert.equal(result.channel, 'C5');
    assert.match(result.text, /^<@U5> demo-64 · exemplar 0/);
  });

  it('"Stylize photo" on a message offers its photo and answers in its thread', async () => {
    let from = h.fake.calls.length;
    const message = {
      type: 'message',
      user: 'U9',
      ts: '1699999100.000200',
      text: 'me',
      files: [h.file('astronaut.png')],
    };
    const response = await h.send(
      payloadRequest({
        type: 'message_action',
        callback_id: 'pastiche_stylize_photo',
        trigger_id: 'trigger-shortcut',
        message_ts: message.ts,
        response_url: h.fake.responseUrl('shortcut'),
        message,
        user: { id: 'U2', name: 'u2', team_id: TEAM },
        channel: { id: 'C2', name: 'random' },
        team: { id: TEAM, domain: 'example' },
        token: 'legacy-verification-token',
        action_ts: '1699999101.0',
      }),
    );
    assert.equal(response.status, 200);
    const view = openedView(await h.fake.waitFor('views.open', undefined, { from }));
    assert.match(JSON.stringify(view.blocks), /the photo in that message \(astronaut\.png\)/);
    from = h.fake.calls.length;
    const ticked = { type: 'checkboxes', selected_options: [{ value: 'yes' }] };
    await h.send(
      viewSubmission(view, 'U2', {
        offered: { offered: ticked },
        exemplar: { exemplar: selected(`${PACK}:4`) },
      }),
    );
    const result = await nextResult(h.fake, from);
    assert.equal(result.channel, 'C2');
    assert.equal(result.threadTs, message.ts);
    assert.match(result.text, /exemplar 4/);
  });

  it('@Pastiche with an image stylizes it in a thread under the mention', async () => {
    const from = h.fake.calls.length;
    const response = await h.send(
      eventRequest({
        type: 'app_mention',
        user: 'U3',
        text: `<@UBOT> ${PACK}:1 colour=0.25`,
        ts: '1699999200.000300',
        channel: 'C3',
        files: [h.file('astronaut.png')],
      }),
    );
    assert.equal(response.status, 200);
    const result = await nextResult(h.fake, from);
    assert.equal(result.channel, 'C3');
    assert.equal(result.threadTs, '1699999200.000300');
    assert.match(result.text, /exemplar 1 \(demo-01\.jpg\) · structure \S+ · colour 0\.25/);
    assert.ok(isJpeg(result.bytes));
  });

  it('/stylize help answers only the asker, through the response URL', async () => {
    const from = h.fake.responses.length;
    await h.send(stylize('help'));
    const help = await h.fake.waitForResponse(from);
    assert.equal(help.response_type, 'ephemeral');
    assert.match(String(help.text), /I turn a photo of a face into a portrait/);
  });

  it('a photo sent to the bot in a DM is stylized there', async () => {
    const from = h.fake.calls.length;
    await h.send(
      eventRequest({
        type: 'message',
        subtype: 'file_share',
        user: 'U4',
        text: `${PACK}:6`,
        ts: '1699999250.000100',
        channel: 'D4',
        channel_type: 'im',
        files: [h.file('astronaut.png')],
      }),
    );
    const result = await nextResult(h.fake, from);
    assert.equal(result.channel, 'D4');
    assert.equal(result.threadTs, undefined);
    assert.match(result.text, /exemplar 6/);
  });

  const style = (text: string, user = 'U8') =>
    commandRequest({
      command: '/style',
      text,
      user,
      channel: 'C8',
      responseUrl: h.fake.responseUrl(`${user}-style`),
    });

  it('/style random without any photo makes a random portrait', async () => {
    const from = h.fake.calls.length;
    assert.equal((await h.send(style('random'))).status, 200);
    const result = await nextResult(h.fake, from);
    assert.equal(result.channel, 'C8');
    assert.match(result.text, /sampled style .*random face/);
  });

  it('/style list posts the contact sheet; /style forget and unknown words answer the asker', async () => {
    let from = h.fake.calls.length;
    await h.send(style('list'));
    const sheet = await h.fake.waitFor('files.completeUploadExternal', undefined, { from });
    assert.equal(sheet.args.channel_id, 'C8');
    assert.match(String(sheet.args.initial_comment), /demo-64: 8 exemplars/);

    from = h.fake.responses.length;
    await h.send(style('forget', 'U1'));
    assert.match(String((await h.fake.waitForResponse(from)).text), /^Done\. I deleted/);

    const unknown = await h.send(style('dance'));
    assert.match(unknown.text, /I don't know `\/style dance`\. Usage:/);
  });
});
