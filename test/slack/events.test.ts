/**
 * Events as Slack really delivers them: files shared from another organisation (Slack Connect)
 * arrive as `file_access: "check_file_info"` with only their id, and an event Slack thinks was
 * not acknowledged in time is delivered again with `x-slack-retry-num` (it may well have run).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers/packs.ts';
import { nextResult, openedView } from './flows.ts';
import { Harness, PACK } from './harness.ts';
import { commandRequest, eventRequest } from './signed.ts';

describe('slack events: Slack Connect files and retries', { timeout: 180_000 }, () => {
  const dir = tempDir('slack-events');
  let h: Harness;
  before(async () => {
    h = await Harness.start(dir);
  });
  after(() => h.close());

  it('a Slack Connect photo in a mention is looked up with files.info and stylized', async () => {
    const from = h.fake.calls.length;
    const file = h.connectFile('astronaut.png');
    await h.send(
      eventRequest({
        type: 'app_mention',
        user: 'U1',
        text: `<@UBOT> ${PACK}:5`,
        ts: '1699999800.000100',
        channel: 'C1',
        files: [file],
      }),
    );
    const info = await h.fake.waitFor('files.info', undefined, { from });
    assert.equal(info.args.file, file.id);
    const result = await nextResult(h.fake, from);
    assert.match(result.text, /exemplar 5/);
    assert.equal(h.fake.of('chat.postEphemeral', from).length, 0, 'no "which photo?" error');
  });

  it('a Slack Connect photo shared in a channel is offered by /stylize', async () => {
    await h.send(
      eventRequest({
        type: 'message',
        subtype: 'file_share',
        user: 'U2',
        text: '',
        ts: '1699999810.000100',
        channel: 'C2',
        channel_type: 'channel',
        files: [h.connectFile('astronaut.png')],
      }),
    );
    const from = h.fake.calls.length;
    await h.send(
      commandRequest({
        command: '/stylize',
        text: '',
        user: 'U2',
        channel: 'C2',
        responseUrl: h.fake.responseUrl('connect'),
      }),
    );
    const view = openedView(await h.fake.waitFor('views.open', undefined, { from }));
    assert.match(JSON.stringify(view.blocks), /the photo you shared .* \(astronaut\.png\)/);
  });

  it('runs an event once, however often Slack retries it', async () => {
    const from = h.fake.calls.length;
    const event = eventRequest({
      type: 'app_mention',
      user: 'U3',
      text: `<@UBOT> ${PACK}:6`,
      ts: '1699999820.000100',
      channel: 'C3',
      files: [h.file('astronaut.png')],
    });
    assert.equal((await h.send(event)).status, 200);
    const retry = await h.send(event, { retry: { num: 1, reason: 'http_timeout' } });
    assert.equal(retry.status, 200, 'acknowledged, so Slack stops retrying');
    await h.logged(/skipped retry 1 of event Ev\d+ \(http_timeout\): already handled/);
    await h.send(event, { retry: { num: 2, reason: 'http_timeout' } });
    await h.logged(/skipped retry 2 of event/);
    await nextResult(h.fake, from);
    assert.equal(h.fake.of('files.getUploadURLExternal', from).length, 1, 'one job, one result');

    // A retry of an event that never got through (the first delivery was lost) does run.
    const lost = eventRequest({
      type: 'app_mention',
      user: 'U3',
      text: `<@UBOT> ${PACK}:7`,
      ts: '1699999830.000100',
      channel: 'C3',
      files: [h.file('astronaut.png')],
    });
    const next = h.fake.calls.length;
    await h.send(lost, { retry: { num: 1, reason: 'http_error' } });
    assert.match((await nextResult(h.fake, next)).text, /exemplar 7/);
  });
});
