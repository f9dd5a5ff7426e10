/**
 * What happens on a result: re-roll by reaction (and after a restart), re-roll, cancel and
 * delete by button. The real discord.js client against the fake Discord.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InteractionResponseType, MessageFlags, type APIMessage, type APIUser } from 'discord.js';
import type { RecordedRequest } from './fake-discord.ts';
import {
  assertResultImage,
  buttonIds,
  isCallback,
  isEdit,
  jobIdOf,
  useHarness,
  withFile,
} from './harness.ts';
import { click, opt, react, slash } from './payloads.ts';

const h = useHarness();
const TIMEOUT = { timeout: 120_000 };

/** A /stylize by `who`; resolves to the result message once it is posted. */
async function stylized(who: APIUser): Promise<APIMessage> {
  const photo = h.cdnPhoto('astronaut.png');
  const sent = slash(h.fake, who, 'stylize', [opt.attachment('photo', photo)], [photo]);
  await h.fake.waitFor((r) => isEdit(sent.token)(r) && withFile(r), { from: sent.from });
  return h.fake.original(sent.token);
}

const inChannel = (r: RecordedRequest): boolean =>
  r.path.startsWith(`/channels/${h.fake.channelId}/messages`);

/** The result a reaction produced: a channel message with the image, replying to `to`. */
async function rerolled(from: number, to: APIMessage): Promise<APIMessage> {
  const first = await h.fake.waitFor((r) => r.method === 'POST' && inChannel(r), { from });
  assert.equal((first.body?.message_reference as { message_id: string }).message_id, to.id);
  const result = await h.fake.waitFor((r) => inChannel(r) && withFile(r), {
    from,
    what: 'the re-roll',
  });
  await assertResultImage(result);
  assert.match(String(result.body?.content), /sampled style/);
  return [...h.fake.messages.values()].find((m) =>
    m.attachments.some((a) => a.filename === result.files[0]!.name),
  )!;
}

const reactionRemoved =
  (message: APIMessage, who: APIUser, emoji: string) => (r: RecordedRequest) =>
    r.method === 'DELETE' &&
    r.path ===
      `/channels/${message.channel_id}/messages/${message.id}/reactions/${emoji}/${who.id}`;

let barriers = 0;

/**
 * A 🎲 on `on` by someone other than its author, sent after whatever was sent before it: it
 * takes the same way through the bot (the job lookup, then the re-roll command, which refuses
 * it), so once its reaction is removed, anything those earlier events caused has reached the
 * fake. Returns where the barrier's own requests begin.
 */
async function barrier(on: APIMessage): Promise<number> {
  const who = h.person(`barrier${++barriers}`);
  const from = react(h.fake, who, on, '🎲');
  await h.fake.waitFor(reactionRemoved(on, who, '🎲'), { from, what: 'the barrier' });
  return from;
}

/** The reactions sent since `from` caused nothing: the fake heard only the barrier on `on`. */
async function assertIgnored(from: number, on: APIMessage): Promise<void> {
  const own = await barrier(on);
  assert.equal(h.fake.requests.slice(from, own).length, 0, h.fake.describe(from));
  const since = h.fake.requests.slice(from);
  assert.equal(since.filter((r) => withFile(r)).length, 0, h.fake.describe(from));
  assert.equal(since.filter((r) => r.method === 'DELETE').length, 1, h.fake.describe(from));
}

test(
  '🎲 on a result re-rolls it, then removes the reaction; other reactions are ignored',
  TIMEOUT,
  async () => {
    const { fake } = h;
    const alice = h.person('alice');
    const result = await stylized(alice);

    let from = react(fake, alice, result, '🎲');
    const next = await rerolled(from, result);
    await fake.waitFor(reactionRemoved(result, alice, '🎲'), { from });
    assert.notEqual(jobIdOf(next), jobIdOf(result));

    // The same reaction twice at once (a duplicate event): one re-roll, on the re-rolled result.
    from = react(fake, alice, next, '🎲');
    react(fake, alice, next, '🎲');
    await rerolled(from, next);
    await fake.waitFor(reactionRemoved(next, alice, '🎲'), { from });
    await barrier(next);
    const files = fake.requests.slice(from).filter((r) => inChannel(r) && withFile(r));
    assert.equal(files.length, 1, 'one re-roll for the two events');

    const bob = h.person('bob');
    const theirs = fake.postAs(bob, { content: 'my own message' });
    await assertIgnored(react(fake, alice, theirs, '🎲'), next);
    await assertIgnored(react(fake, fake.bot, result, '🎲'), next);
    await assertIgnored(react(fake, alice, result, '👍'), next);
  },
);

test(
  'a reaction still re-rolls after the bot restarts (the mapping is in keyv)',
  TIMEOUT,
  async () => {
    const { fake } = h;
    const carol = h.person('carol');
    const result = await stylized(carol);
    const identifies = fake.gateway.identifies;
    // Stopping (before the restart): a new command hears why it cannot run now.
    await h.bot.stop();
    const late = slash(fake, carol, 'style', [opt.sub('random')]);
    const answer = await fake.waitFor(isCallback(late.id), { from: late.from });
    const data = answer.body?.data as { content: string; flags: number };
    assert.equal(data.content, "I'm restarting. Try again in a minute.");
    assert.equal(data.flags, MessageFlags.Ephemeral);
    await h.restart();
    assert.equal(fake.gateway.identifies, identifies + 1);

    const from = react(fake, carol, result, '🎲');
    await rerolled(from, result);
    await fake.waitFor(reactionRemoved(result, carol, '🎲'), { from });
  },
);

test(
  'buttons: re-roll, cancel by someone else (refused), delete by the author',
  TIMEOUT,
  async () => {
    const { fake } = h;
    const dave = h.person('dave');
    const result = await stylized(dave);
    const jobId = jobIdOf(result);

    const reroll = click(fake, dave, result, `reroll:color:${jobId}`);
    const deferred = await fake.waitFor(isCallback(reroll.id), { from: reroll.from });
    assert.equal(deferred.body?.type, InteractionResponseType.DeferredChannelMessageWithSource);
    const variation = await fake.waitFor((r) => isEdit(reroll.token)(r) && withFile(r), {
      from: reroll.from,
    });
    await assertResultImage(variation);
    assert.match(String(variation.body?.content), /sampled style/);
    assert.ok(buttonIds(variation).includes(`delete:${jobIdOf(variation)}`));

    const bob = h.person('bob');
    const cancel = click(fake, bob, result, `cancel:${jobId}`);
    const ephemeral = await fake.waitFor(isCallback(cancel.id), { from: cancel.from });
    assert.equal((ephemeral.body?.data as { flags: number }).flags, MessageFlags.Ephemeral);
    const refusal = await fake.waitFor(isEdit(cancel.token), { from: cancel.from });
    assert.equal(refusal.body?.content, 'Only the person who asked for that result can do this.');

    const del = click(fake, dave, result, `delete:${jobId}`);
    await fake.waitFor(
      (r) =>
        r.method === 'DELETE' && r.path === `/channels/${fake.channelId}/messages/${result.id}`,
      {
        from: del.from,
      },
    );
    const done = await fake.waitFor(isEdit(del.token), { from: del.from });
    assert.equal((done.body?.embeds as { description: string }[])[0]?.description, 'Deleted.');
    // Its mapping went with it: a reaction on the (deleted) message does nothing.
    await assertIgnored(react(fake, dave, result, '🎲'), await fake.original(reroll.token));
  },
);
