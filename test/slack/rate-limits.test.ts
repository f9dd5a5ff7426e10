/**
 * Slack's rate tiers: `chat.update` allows about 50 calls a minute (Tier 3), then answers 429
 * with Retry-After, and `@slack/web-api` pauses its client's whole queue until then. Status edits
 * are throttled and go through their own client that rejects rate-limited calls, so a 429 on
 * them never delays `views.open` (whose trigger lasts 3 s) or a result.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { webApi } from '@slack/bolt';
import { openSlackStore } from '../../src/bots/slack/store.ts';
import { SlackReplies } from '../../src/bots/slack/replies.ts';
import type { Stage } from '../../src/commands/index.ts';
import { tempDir } from '../helpers/packs.ts';
import { FakeSlack } from './fake-slack.ts';
import { nextResult, openedView } from './flows.ts';
import { BOT_TOKEN, Harness, PACK } from './harness.ts';
import { commandRequest, eventRequest } from './signed.ts';

describe('slack status edits and rate limits', { timeout: 180_000 }, () => {
  const dir = tempDir('slack-rates');
  let h: Harness;
  before(async () => {
    h = await Harness.start(dir);
  });
  after(() => h.close());

  it('the fake answers 429 with Retry-After past Tier 3', async () => {
    const fake = await FakeSlack.start(BOT_TOKEN);
    try {
      fake.perMinute.set('chat.update', 3);
      const client = new webApi.WebClient(BOT_TOKEN, {
        slackApiUrl: fake.apiUrl,
        rejectRateLimitedCalls: true,
      });
      const { ts } = await client.chat.postMessage({ channel: 'C1', text: 'x' });
      for (let i = 0; i < 3; i++)
        await client.chat.update({ channel: 'C1', ts: ts!, text: `${i}` });
      await assert.rejects(client.chat.update({ channel: 'C1', ts: ts!, text: 'over' }), (e) => {
        const error = e as { code?: string; retryAfter?: number };
        return error.code === webApi.ErrorCode.RateLimitedError && error.retryAfter! >= 1;
      });
    } finally {
      await fake.close();
    }
  });

  it('/stylize opens its modal in time while status edits are rate limited', async () => {
    h.fake.exhaust('chat.update'); // Retry-After: about 60 s
    const release = h.holdJobs();
    try {
      let from = h.fake.calls.length;
      await h.send(
        eventRequest({
          type: 'app_mention',
          user: 'U1',
          text: `<@UBOT> ${PACK}:1`,
          ts: '1699999700.000100',
          channel: 'C1',
          files: [h.file('astronaut.png')],
        }),
      );
      // The job's stage edits hit the limit.
      await h.fake.waitFor('chat.update', (a) => a.channel === 'C1', { from });
      assert.ok((h.fake.rateLimited.get('chat.update') ?? 0) >= 1);
      await h.logged(/status edit rate limited; next in \d+ ms/);

      // The modal must open within Slack's 3 s trigger window, so it may not queue behind the
      // edits: it opens while their limit (Retry-After about 60 s) still holds and the job is held.
      from = h.fake.calls.length;
      const response = await h.send(
        commandRequest({
          command: '/stylize',
          text: '',
          user: 'U2',
          channel: 'C2',
          responseUrl: h.fake.responseUrl('rates'),
        }),
      );
      assert.equal(response.status, 200);
      const opened = await h.fake.waitFor('views.open', undefined, { from, timeoutMs: 10_000 });
      assert.equal(openedView(opened).callback_id, 'pastiche_stylize');

      // The result still arrives at once: uploads and posts do not wait for the limit either.
      from = h.fake.calls.length;
      release();
      const result = await nextResult(h.fake, from);
      assert.equal(result.channel, 'C1');
    } finally {
      release();
      h.fake.resetRates();
    }
  });

  it('throttles status edits: stage and coarse position changes only, one per interval', async () => {
    const store = await openSlackStore({
      url: 'memory',
      keyPrefix: 'test',
      resultTtlMs: 60_000,
      onError: () => {},
    });
    const logs: string[] = [];
    const client = new webApi.WebClient(BOT_TOKEN, { slackApiUrl: h.fake.apiUrl });
    const statusClient = new webApi.WebClient(BOT_TOKEN, {
      slackApiUrl: h.fake.apiUrl,
      rejectRateLimitedCalls: true,
    });
    const intervalMs = 300;
    const replies = new SlackReplies(
      { client, statusClient, store, log: (l) => logs.push(l), statusIntervalMs: intervalMs },
      { channel: 'C9', user: 'U9' },
    );
    const status = (stage: Stage, position?: number, eta = '') =>
      void replies.sink({
        kind: 'status',
        jobId: 'j1',
        stage,
        ...(position !== undefined && { position }),
        text: `${stage}${position === undefined ? '' : ` #${position}`}${eta}`,
      });
    try {
      const from = h.fake.calls.length;
      // What a queue draining fast sends: 12 positions, then the three stages.
      for (let p = 12; p >= 1; p--) status('queued', p);
      status('aligning');
      status('encoding');
      status('generating');
      const last = await h.fake.waitFor('chat.update', (a) => a.text === '<@U9> generating', {
        from,
      });
      const calls = h.fake.calls
        .slice(from)
        .filter((c) => c.method === 'chat.postMessage' || c.method === 'chat.update');
      assert.equal(calls[0]?.method, 'chat.postMessage');
      assert.equal(calls[0]?.args.text, '<@U9> queued #12');
      assert.deepEqual(
        calls.slice(1).map((c) => c.args.text),
        ['<@U9> generating'],
        'the edits in between were coalesced into the latest',
      );
      assert.ok(last.at - calls[0]!.at >= intervalMs - 5, 'no sooner than the interval');

      // A new ETA at the same stage and position bucket is not worth an edit; an error is.
      const before = h.fake.calls.length;
      status('generating', undefined, ', almost');
      void replies.sink({ kind: 'error', code: 'cancelled', text: 'Cancelled.' });
      await replies.settled();
      assert.deepEqual(
        h.fake.calls.slice(before).map((c) => [c.method, c.args.text]),
        [['chat.update', '<@U9> :warning: Cancelled.']],
      );
    } finally {
      await store.close();
    }
  });
});
