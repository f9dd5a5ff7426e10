/**
 * What the Slack app refuses and how it says so: unsigned, badly signed, stale or future-dated
 * requests (401), a download Slack answers with its login page (the `files:read` scope) or
 * redirects off Slack's file host, a photo without a face.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers/packs.ts';
import { startSlack } from '../../src/bots/slack/index.ts';
import { OUTSIDE } from './fake-slack.ts';
import { nextResult, openedView, textsSince, uploadedFile, viewSubmission } from './flows.ts';
import { Harness, SIGNING_SECRET } from './harness.ts';
import { commandRequest, eventRequest } from './signed.ts';

describe('slack refusals', { timeout: 120_000 }, () => {
  const dir = tempDir('slack-errors');
  let h: Harness;
  before(async () => {
    h = await Harness.start(dir);
  });
  after(() => h.close());

  const stylize = () =>
    commandRequest({
      command: '/stylize',
      text: '',
      user: 'U1',
      channel: 'C1',
      responseUrl: h.fake.responseUrl('e'),
    });
  const mention = (file: string, ts: string) =>
    eventRequest({
      type: 'app_mention',
      user: 'U7',
      text: '<@UBOT>',
      ts,
      channel: 'C7',
      files: [h.file(file)],
    });

  /** Waits until the app said something matching `pattern` (after call index `from`). */
  async function said(from: number, pattern: RegExp): Promise<string> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const text = textsSince(h.fake, from).find((t) => pattern.test(t));
      if (text) return text;
      assert.ok(
        Date.now() < deadline,
        `nothing matched ${pattern}: ${textsSince(h.fake, from).join(' | ')}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('rejects a bad signature and a timestamp over 5 minutes off, either way, with 401, before any listener runs', async () => {
    const from = h.fake.calls.length;
    const forged = await h.send(stylize(), { signature: `v0=${'0'.repeat(64)}` });
    assert.equal(forged.status, 401);
    const otherSecret = await h.send(stylize(), { secret: 'not-the-secret' });
    assert.equal(otherSecret.status, 401);
    const stale = await h.send(stylize(), { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    assert.equal(stale.status, 401);
    const now = Math.floor(Date.now() / 1000);
    const future = await h.send(stylize(), { timestamp: now + 10 * 60 });
    assert.equal(future.status, 401, 'signed correctly, but 10 minutes in the future');
    const fresh = await h.send(stylize());
    assert.equal(fresh.status, 200, 'the same request, signed now, is accepted');
    const skewed = await h.send(stylize(), { timestamp: now + 4 * 60 });
    assert.equal(skewed.status, 200, 'a clock 4 minutes ahead is within the 5 allowed');
    const first = await h.fake.waitFor('views.open', undefined, { from });
    await h.fake.waitFor('views.open', (a) => a !== first.args, { from });
    assert.equal(h.fake.of('views.open', from).length, 2);
  });

  it('follows a download redirect on Slack’s file host, and refuses one that leaves it', async () => {
    const outside = createServer((req, res) => {
      hits.push(req.headers.authorization ?? '');
      res.end('not a photo');
    });
    const hits: string[] = [];
    outside.listen(0, '127.0.0.1');
    await once(outside, 'listening');
    try {
      const { port } = outside.address() as AddressInfo;
      h.fake.redirects.set('away.png', `http://127.0.0.1:${port}/photo.png`);
      h.fake.redirects.set('moved.png', h.fake.fileUrl('astronaut.png'));
      const file = (name: string) => ({
        ...h.file('astronaut.png'),
        id: `F_${name}`,
        url_private: h.fake.fileUrl(name),
        url_private_download: h.fake.fileUrl(name),
      });

      let from = h.fake.calls.length;
      await h.send(
        eventRequest({
          type: 'app_mention',
          user: 'U6',
          text: '<@UBOT>',
          ts: '1699999450.000100',
          channel: 'C6',
          files: [file('away.png')],
        }),
      );
      const text = await said(
        from,
        /couldn't download that photo from Slack \(redirected off Slack\)/,
      );
      assert.ok(text);
      assert.deepEqual(hits, [], 'nothing reached the other host');

      from = h.fake.calls.length;
      await h.send(
        eventRequest({
          type: 'app_mention',
          user: 'U6',
          text: '<@UBOT>',
          ts: '1699999460.000100',
          channel: 'C6',
          files: [file('moved.png')],
        }),
      );
      const result = await nextResult(h.fake, from);
      assert.equal(result.channel, 'C6');
    } finally {
      outside.close();
    }
  });

  it('turns an HTML answer from url_private into the files:read message', async () => {
    const from = h.fake.calls.length;
    h.fake.filesScope = false;
    try {
      await h.send(mention('astronaut.png', '1699999400.000100'));
      const text = await said(from, /files:read/);
      assert.match(text, /login page/);
    } finally {
      h.fake.filesScope = true;
    }
    const ephemeral = await h.fake.waitFor('chat.postEphemeral', undefined, { from });
    assert.equal(ephemeral.args.user, 'U7', 'only the asker sees it');
    assert.equal(h.fake.of('files.getUploadURLExternal', from).length, 0);
  });

  it('says clearly that a photo has no face', async () => {
    const from = h.fake.calls.length;
    await h.send(mention('no_face_cat.png', '1699999500.000100'));
    const text = await said(from, /No face found/);
    assert.match(text, /front-facing photo/);
    assert.equal(h.fake.of('files.getUploadURLExternal', from).length, 0);
  });

  it('tells the asker to invite the bot where it may not post', async () => {
    let from = h.fake.calls.length;
    const responseUrl = h.fake.responseUrl('outside');
    await h.send(
      commandRequest({ command: '/stylize', text: '', user: 'U1', channel: OUTSIDE, responseUrl }),
    );
    const view = openedView(await h.fake.waitFor('views.open', undefined, { from }));
    from = h.fake.responses.length;
    await h.send(viewSubmission(view, 'U1', uploadedFile(h.file('astronaut.png'))));
    const told = await h.fake.waitForResponse(from);
    assert.match(String(told.text), /Invite me first/);
  });

  it('refuses to start with a token Slack rejects, or without what its mode needs', async () => {
    const base = {
      commands: h.commands,
      config: h.config,
      port: 0,
      host: '127.0.0.1',
      slackApiUrl: h.fake.apiUrl,
    };
    await assert.rejects(
      startSlack({ ...base, botToken: 'xoxb-wrong', signingSecret: SIGNING_SECRET }),
      /Slack refused SLACK_BOT_TOKEN \(invalid_auth\)/,
    );
    await assert.rejects(
      startSlack({ ...base, botToken: 'xoxb-x', socketMode: true }),
      /SLACK_APP_TOKEN/,
    );
    await assert.rejects(startSlack({ ...base, botToken: 'xoxb-x' }), /SLACK_SIGNING_SECRET/);
  });
});
