/**
 * `forget` on Slack deletes what the adapter keeps about the user's photos: the photos they
 * shared in channels (offered by `/stylize` for a few minutes), in every channel, and nobody
 * else's. Through the real app and signed requests, and on the store itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSlackStore } from '../../src/bots/slack/store.ts';
import { tempDir } from '../helpers/packs.ts';
import { Harness } from './harness.ts';
import { openedView } from './flows.ts';
import { commandRequest, eventRequest } from './signed.ts';

describe('slack forget', { timeout: 180_000 }, () => {
  const dir = tempDir('slack-forget');
  let h: Harness;
  before(async () => {
    h = await Harness.start(dir);
  });
  after(() => h.close());

  const share = (user: string, channel: string, ts: string) =>
    h.send(
      eventRequest({
        type: 'message',
        subtype: 'file_share',
        user,
        text: '',
        ts,
        channel,
        channel_type: 'channel',
        files: [h.file('astronaut.png')],
      }),
    );

  /** Whether `/stylize` in `channel` offers `user` a photo they shared. */
  async function offered(user: string, channel: string): Promise<boolean> {
    const from = h.fake.calls.length;
    const request = commandRequest({
      command: '/stylize',
      text: '',
      user,
      channel,
      responseUrl: h.fake.responseUrl(`${user}-${channel}-${from}`),
    });
    await h.send(request);
    const view = openedView(await h.fake.waitFor('views.open', undefined, { from }));
    return view.blocks.some((b) => b.block_id === 'offered');
  }

  it('deletes the photos the user shared in every channel, and only theirs', async () => {
    await share('U7', 'C5', '1699999000.000100');
    await share('U7', 'C6', '1699999000.000200');
    await share('U8', 'C5', '1699999000.000300');
    assert.ok(await offered('U7', 'C5'), 'offered before forget');
    assert.ok(await offered('U7', 'C6'), 'offered before forget');

    const from = h.fake.responses.length;
    await h.send(
      commandRequest({
        command: '/style',
        text: 'forget',
        user: 'U7',
        channel: 'C5',
        responseUrl: h.fake.responseUrl('U7-forget'),
      }),
    );
    assert.match(String((await h.fake.waitForResponse(from)).text), /^Done\. I deleted/);

    assert.equal(await offered('U7', 'C5'), false, 'nothing offered in C5 after forget');
    assert.equal(await offered('U7', 'C6'), false, 'nothing offered in C6 after forget');
    assert.ok(await offered('U8', 'C5'), "another user's photo is kept");
  });

  it('a photo shared after forget is offered again', async () => {
    await share('U7', 'C5', '1699999000.000400');
    assert.ok(await offered('U7', 'C5'));
  });
});

describe('slack store forgetUser', () => {
  it('leaves no recent photo of the user in any channel', async () => {
    const store = await openSlackStore({
      url: 'memory',
      keyPrefix: 'forget-test',
      resultTtlMs: 60_000,
      onError: (error) => assert.fail(String(error)),
    });
    try {
      const photo = { url: 'https://files.slack.com/a.png', name: 'a.png', sharedAt: Date.now() };
      await store.setRecentPhoto('C1', 'U1', photo);
      await store.setRecentPhoto('C2', 'U1', photo);
      await store.setRecentPhoto('C1', 'U2', photo);
      await store.forgetUser('U1');
      assert.equal(await store.recentPhoto('C1', 'U1'), undefined);
      assert.equal(await store.recentPhoto('C2', 'U1'), undefined);
      assert.deepEqual(await store.recentPhoto('C1', 'U2'), photo);
      await store.forgetUser('U1');
      assert.deepEqual(await store.recentPhoto('C1', 'U2'), photo, 'a second forget is harmless');
    } finally {
      await store.close();
    }
  });
});
