/**
 * Failures as users see them: a file that is not an image, a photo without a face, a link off
 * Discord's CDN, a rate limit; and what the adapter survives: a 429 from Discord's REST API, an
 * interaction token that has expired, an upload limit smaller than the result. What a user sees
 * is read from the fake's messages, which follow Discord's first-follow-up rule.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InteractionResponseType, MessageFlags, RESTJSONErrorCodes } from 'discord.js';
import type { RecordedRequest } from './fake-discord.ts';
import {
  assertResultImage,
  isCallback,
  isEdit,
  isFollowUp,
  useHarness,
  withFile,
  PER_HOUR,
  photoBytes,
} from './harness.ts';
import { attachment, opt, slash, type Sent } from './payloads.ts';

const h = useHarness();
const TIMEOUT = { timeout: 120_000 };

/**
 * A failure found after the command was deferred (publicly): it takes the status message's
 * place, and it is what the interaction shows in the end, with no follow-up.
 */
async function failureInPlace(sent: Sent): Promise<string> {
  const { fake } = h;
  const error = await fake.waitFor((r) => isEdit(sent.token)(r) && !isStatus(r), {
    from: sent.from,
    what: 'the error',
  });
  await h.bot.settled();
  const shown = fake.shown(sent.token);
  assert.equal(shown.length, 1, JSON.stringify(shown));
  assert.deepEqual(shown[0], { content: error.body?.content, ephemeral: false, files: 0 });
  assert.ok(!fake.requests.slice(sent.from).some(isFollowUp(sent.token)), 'no follow-up');
  return String(error.body?.content);
}

const isStatus = (r: RecordedRequest): boolean => String(r.body?.content).startsWith('⏳');

/** A refusal answered at once, privately, instead of a defer: the only thing the user sees. */
async function privateRefusal(sent: Sent): Promise<string> {
  const { fake } = h;
  const reply = await fake.waitFor(isCallback(sent.id), { from: sent.from, what: 'the answer' });
  assert.equal(reply.body?.type, InteractionResponseType.ChannelMessageWithSource);
  await h.bot.settled();
  const shown = fake.shown(sent.token);
  assert.equal(shown.length, 1, JSON.stringify(shown));
  assert.equal(shown[0]?.ephemeral, true, 'private');
  return shown[0]!.content;
}

test('a file that is not an image, a photo without a face', TIMEOUT, async () => {
  const { fake } = h;
  const ursula = h.person('ursula');
  const text = new TextEncoder().encode('<html>not a photo</html>');
  const notes = attachment(
    fake.serve('/cdn/attachments/1/2/photo.jpg', text, 'image/jpeg'),
    text,
    'photo.jpg',
  );
  const sent = slash(fake, ursula, 'stylize', [opt.attachment('photo', notes)], [notes]);
  assert.match(await failureInPlace(sent), /isn't an image I can read\. Send a JPEG, PNG/);

  const cat = h.cdnPhoto('no_face_cat.png');
  const noFace = slash(fake, ursula, 'stylize', [opt.attachment('photo', cat)], [cat]);
  assert.equal(
    await failureInPlace(noFace),
    'No face found. Try a front-facing photo where the face is clearly visible.',
  );
  assert.deepEqual(fake.invalidRequests(sent.from), []);
});

test(
  'a photo off the allow-list, or too large, is refused at once without a download',
  TIMEOUT,
  async () => {
    const { fake } = h;
    const victor = h.person('victor');
    const bytes = photoBytes('astronaut.png');
    const offList = new URL(fake.serve('/elsewhere/astronaut.png', bytes));
    offList.hostname = 'localhost';
    const linked = attachment(offList.href, bytes, 'astronaut.png');
    const huge = { ...h.cdnPhoto('astronaut.png'), size: h.config.photo.maxBytes + 1 };
    for (const [photo, words] of [
      [linked, /^I only read photos uploaded to Discord/],
      [huge, /^That file is too large/],
    ] as const) {
      const sent = slash(fake, victor, 'stylize', [opt.attachment('photo', photo)], [photo]);
      const reply = await fake.waitFor(isCallback(sent.id), { from: sent.from });
      assert.equal(reply.body?.type, InteractionResponseType.ChannelMessageWithSource);
      const data = reply.body?.data as { content: string; flags: number };
      assert.equal(data.flags, MessageFlags.Ephemeral);
      assert.match(data.content, words);
      assert.ok(
        !fake.requests.slice(sent.from).some((r) => r.method === 'GET'),
        fake.describe(sent.from),
      );
    }
  },
);

test('past the hourly limit: a private refusal that says when to come back', TIMEOUT, async () => {
  const { fake } = h;
  const mallory = h.person('mallory');
  for (let i = 0; i < PER_HOUR; i++) {
    const sent = slash(fake, mallory, 'style', [opt.sub('random')]);
    await fake.waitFor((r) => isEdit(sent.token)(r) && withFile(r), { from: sent.from });
  }
  const refused = slash(fake, mallory, 'style', [opt.sub('random')]);
  assert.match(
    await privateRefusal(refused),
    /^You've reached the hourly limit of portraits\. Try again in (~\d+ min|about \d+ s)\.$/,
  );
});

test('a 429 from the REST API is waited out and retried', TIMEOUT, async () => {
  const { fake } = h;
  const wendy = h.person('wendy');
  fake.failNext({
    method: 'PATCH',
    path: /\/messages\/@original$/,
    status: 429,
    headers: { 'retry-after': '0.2', 'x-ratelimit-scope': 'user' },
    body: { message: 'You are being rate limited.', retry_after: 0.2, global: false },
  });
  const sent = slash(fake, wendy, 'style', [opt.sub('random')]);
  await assertResultImage(
    await fake.waitFor((r) => isEdit(sent.token)(r) && withFile(r), { from: sent.from }),
  );
  const edits = fake.requests.slice(sent.from).filter(isEdit(sent.token));
  assert.equal(edits[0]?.status, 429);
  assert.equal(edits[1]?.status, 200);
  assert.ok(edits[1]!.at - edits[0]!.at >= 200, 'waited for retry-after');
});

test(
  'once the interaction token has expired, the result is posted with the bot token',
  TIMEOUT,
  async () => {
    const { fake } = h;
    const xena = h.person('xena');
    const sent = slash(fake, xena, 'style', [opt.sub('random')]);
    fake.failNext({
      method: 'PATCH',
      path: new RegExp(`/${sent.token}/messages/@original$`),
      status: 401,
      body: { code: RESTJSONErrorCodes.InvalidWebhookToken, message: 'Invalid Webhook Token' },
      times: 100,
    });
    const inChannel = (r: RecordedRequest): boolean =>
      r.path === `/channels/${fake.channelId}/messages` ||
      r.path.startsWith(`/channels/${fake.channelId}/messages/`);
    const result = await fake.waitFor((r) => inChannel(r) && withFile(r), { from: sent.from });
    await assertResultImage(result);
    assert.match(String(result.body?.content), /random face/);
    assert.ok(
      fake.requests.slice(sent.from).some((r) => isEdit(sent.token)(r) && r.status === 401),
    );
  },
);

test('a result larger than the upload limit is re-encoded to fit', TIMEOUT, async () => {
  const { fake } = h;
  const yara = h.person('yara');
  const usual = slash(fake, yara, 'style', [opt.sub('random')]);
  const full = await fake.waitFor((r) => isEdit(usual.token)(r) && withFile(r), {
    from: usual.from,
  });
  const limit = Math.floor(full.files[0]!.bytes.length / 2);
  // Another random portrait of about that size, allowed half of it.
  const sent = slash(fake, yara, 'style', [opt.sub('random')], [], {
    attachment_size_limit: limit,
  });
  const result = await fake.waitFor((r) => isEdit(sent.token)(r) && withFile(r), {
    from: sent.from,
  });
  const bytes = result.files[0]!.bytes;
  assert.ok(bytes.length <= limit, `${bytes.length} bytes, limit ${limit}`);
  assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xd8], 'a JPEG');
});
