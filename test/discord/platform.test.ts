/**
 * Discord's rules as the fake applies them: private refusals before the defer, the app's
 * permissions (checked first; a 50013 ends the job and gives the quota back), the token's
 * 15 minutes counted from the interaction, a user-installed app that may not post in the
 * channel, reactions in DMs after a restart, and no request Discord would count as invalid.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { once } from 'node:events';
import { test } from 'node:test';
import {
  Events,
  InteractionResponseType,
  PermissionFlagsBits,
  type APIMessage,
  type APIUser,
} from 'discord.js';
import { STOP_BEFORE_EXPIRY_MS } from '../../src/bots/discord/photos.ts';
import { GUILD_PERMISSIONS, TOKEN_LIFETIME_MS, type RecordedRequest } from './fake-discord.ts';
import {
  assertResultImage,
  isCallback,
  isEdit,
  jobIdOf,
  useHarness,
  withFile,
  PACK,
  photoBytes,
} from './harness.ts';
import {
  asManager,
  click,
  inDm,
  opt,
  react,
  sentAgo,
  slash,
  userInstalled,
  userMenu,
  type Sent,
} from './payloads.ts';

const h = useHarness();
const TIMEOUT = { timeout: 120_000 };

/** Sets the app's permissions in the fake's channel and waits for the client to hear of it. */
async function permissions(bits: bigint): Promise<void> {
  const updated = once(h.bot.client, Events.ChannelUpdate);
  h.fake.setPermissions(h.fake.channelId, bits);
  await updated;
}

/** Resolves once `done()` holds, checking every 50 ms; fails after 30 s. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The answer given at once, privately, instead of a defer: the only thing the user sees. */
async function privateRefusal(sent: Sent): Promise<string> {
  const reply = await h.fake.waitFor(isCallback(sent.id), { from: sent.from });
  assert.equal(reply.body?.type, InteractionResponseType.ChannelMessageWithSource);
  await h.bot.settled();
  const shown = h.fake.shown(sent.token);
  assert.equal(shown.length, 1, JSON.stringify(shown));
  assert.equal(shown[0]?.ephemeral, true, 'private');
  return shown[0]!.content;
}

/** A /stylize by `who` in the fake's channel; resolves to the result message. */
async function stylized(who: APIUser, extra: Record<string, unknown> = {}): Promise<APIMessage> {
  const photo = h.cdnPhoto('astronaut.png');
  const sent = slash(h.fake, who, 'stylize', [opt.attachment('photo', photo)], [photo], extra);
  await h.fake.waitFor((r) => isEdit(sent.token)(r) && withFile(r), { from: sent.from });
  return h.fake.original(sent.token);
}

const inChannel = (channelId: string) => (r: RecordedRequest) =>
  r.path.startsWith(`/channels/${channelId}/messages`);
const isReactionDelete = (r: RecordedRequest): boolean =>
  r.method === 'DELETE' && r.path.includes('/reactions/');

test('refusals are private and come before any defer', TIMEOUT, async () => {
  const { fake } = h;
  const nina = h.person('nina');
  const cases: [Sent, RegExp][] = [
    // No photo and none sent before.
    [slash(fake, nina, 'stylize', []), /^Attach a photo with a face/],
    [slash(fake, nina, 'stylize', [opt.string('style', 'nope')]), /^I don't know that style/],
    [
      slash(fake, nina, 'style', [opt.sub('random', [opt.string('style', 'nope')])]),
      /^I don't know that style/,
    ],
  ];
  for (const [sent, words] of cases) assert.match(await privateRefusal(sent), words);

  // Someone else's photo: the re-roll button refuses them privately.
  const result = await stylized(h.person('olga'));
  const other = click(fake, nina, result, `reroll:style:${jobIdOf(result)}`);
  assert.match(await privateRefusal(other), /^Only the person who asked/);
  assert.deepEqual(fake.invalidRequests(cases[0]![0].from), []);
});

test(
  '/stylize without a photo uses your last one; a size the style lacks is refused',
  TIMEOUT,
  async () => {
    const { fake } = h;
    const pia = h.person('pia');
    await stylized(pia);
    const again = slash(fake, pia, 'stylize', [opt.integer('size', 64)]);
    await assertResultImage(
      await fake.waitFor((r) => isEdit(again.token)(r) && withFile(r), { from: again.from }),
    );
    const tiny = slash(fake, pia, 'stylize', [opt.integer('size', 32)]);
    assert.match(await privateRefusal(tiny), /^One of the options is out of range/);
  },
);

test(
  'a missing permission is named before the defer, with no request Discord refuses',
  TIMEOUT,
  async () => {
    const { fake } = h;
    const quinn = h.person('quinn');
    await permissions(GUILD_PERMISSIONS & ~PermissionFlagsBits.AttachFiles);
    try {
      const photo = h.cdnPhoto('astronaut.png');
      const sent = slash(fake, quinn, 'stylize', [opt.attachment('photo', photo)], [photo]);
      assert.match(await privateRefusal(sent), /missing the \*\*Attach Files\*\* permission/);
      assert.ok(!fake.requests.slice(sent.from).some((r) => r.method === 'GET'), 'no download');
      assert.deepEqual(fake.invalidRequests(sent.from), []);
    } finally {
      await permissions(GUILD_PERMISSIONS);
    }
  },
);

test(
  'a 50013 during a job ends it, says so in its place and gives the quota back',
  TIMEOUT,
  async () => {
    const { fake } = h;
    const rita = h.person('rita');
    // The client's cache still says Attach Files (the update has not arrived): Discord refuses.
    fake.setPermissions(fake.channelId, GUILD_PERMISSIONS & ~PermissionFlagsBits.AttachFiles, {
      tell: false,
    });
    try {
      const sent = slash(fake, rita, 'style', [opt.sub('random')], [], {
        app_permissions: String(GUILD_PERMISSIONS),
      });
      const told = await fake.waitFor(
        (r) => isEdit(sent.token)(r) && /missing a permission/.test(String(r.body?.content)),
        { from: sent.from, what: 'the explanation' },
      );
      assert.equal(told.files.length, 0);
      await h.bot.settled();
      assert.deepEqual(
        fake.invalidRequests(sent.from).map((r) => r.status),
        [403],
        'only the one refusal',
      );
      assert.deepEqual(fake.shown(sent.token), [
        { content: told.body?.content, ephemeral: false, files: 0 },
      ]);
      assert.deepEqual(h.refunds, [rita.id]);
    } finally {
      await permissions(GUILD_PERMISSIONS);
    }
  },
);

test(
  'after 15 minutes from the interaction: the channel, the user named, no expired-token request',
  TIMEOUT,
  async () => {
    const { fake } = h;
    const sam = h.person('sam');
    // Created a moment more than 15 minutes ago (the fake does not time the first callback).
    const sent = slash(fake, sam, 'style', [opt.sub('random')], [], {
      id: sentAgo(TOKEN_LIFETIME_MS + 1000),
    });
    const result = await fake.waitFor((r) => inChannel(fake.channelId)(r) && withFile(r), {
      from: sent.from,
    });
    await assertResultImage(result);
    assert.match(String(result.body?.content), new RegExp(`^<@${sam.id}> `));
    assert.deepEqual((result.body?.allowed_mentions as { users: string[] }).users, [sam.id]);
    assert.ok(!fake.requests.slice(sent.from).some((r) => r.path.startsWith('/webhooks/')));
    assert.deepEqual(fake.invalidRequests(sent.from), []);
  },
);

test(
  'after 15 minutes, a channel the bot may no longer post in: the job ends, the user hears by DM',
  TIMEOUT,
  async () => {
    const { fake } = h;
    const tara = h.person('tara');
    await permissions(GUILD_PERMISSIONS & ~PermissionFlagsBits.SendMessages);
    try {
      const sent = slash(fake, tara, 'style', [opt.sub('random')], [], {
        id: sentAgo(TOKEN_LIFETIME_MS + 1000),
        app_permissions: String(GUILD_PERMISSIONS),
      });
      const dm = await fake.waitFor(
        (r) => r.method === 'POST' && /^\/channels\/\d+\/messages$/.test(r.path),
        { from: sent.from, what: 'the DM' },
      );
      assert.notEqual(dm.path, `/channels/${fake.channelId}/messages`);
      assert.match(String(dm.body?.content), /missing the \*\*Send Messages\*\* permission/);
      await h.bot.settled();
      assert.deepEqual(fake.invalidRequests(sent.from), []);
      assert.ok(!fake.requests.slice(sent.from).some(withFile), 'no result posted');
      assert.ok(h.refunds.includes(tara.id));
    } finally {
      await permissions(GUILD_PERMISSIONS);
    }
  },
);

test(
  'user-installed in a group DM: answers through the interaction only, stops before the token ends',
  TIMEOUT,
  async () => {
    const { fake } = h;
    const uma = h.person('uma');
    const group = fake.openDm(uma);
    const sent = slash(fake, uma, 'style', [opt.sub('random')], [], userInstalled(uma, group));
    await assertResultImage(
      await fake.waitFor((r) => isEdit(sent.token)(r) && withFile(r), { from: sent.from }),
    );
    assert.ok(!fake.requests.slice(sent.from).some((r) => r.path.startsWith('/channels/')));

    // Sent so long ago that the job could not finish in time: stopped, and said so.
    const late = slash(fake, uma, 'style', [opt.sub('random')], [], {
      ...userInstalled(uma, group),
      id: sentAgo(TOKEN_LIFETIME_MS - STOP_BEFORE_EXPIRY_MS + 5000),
    });
    const stopped = await fake.waitFor(
      (r) => isEdit(late.token)(r) && /took too long/.test(String(r.body?.content)),
      { from: late.from },
    );
    await h.bot.settled();
    assert.deepEqual(fake.shown(late.token), [
      { content: stopped.body?.content, ephemeral: false, files: 0 },
    ]);
    assert.ok(!fake.requests.slice(late.from).some((r) => r.path.startsWith('/channels/')));
    assert.deepEqual(fake.invalidRequests(sent.from), []);
    // The job was cancelled (no result in its place) and did not count.
    await until(() => h.refunds.includes(uma.id), 'the refund');
    assert.ok(!fake.requests.slice(late.from).some(withFile));
  },
);

test(
  'a reaction in a DM after a restart re-rolls; no reaction is removed there',
  TIMEOUT,
  async () => {
    const { fake } = h;
    const vera = h.person('vera');
    const dm = fake.openDm(vera);
    const photo = h.cdnPhoto('astronaut.png');
    const sent = slash(
      fake,
      vera,
      'stylize',
      [opt.attachment('photo', photo), opt.string('style', PACK)],
      [photo],
      inDm(vera, dm),
    );
    await fake.waitFor((r) => isEdit(sent.token)(r) && withFile(r), { from: sent.from });
    const result = fake.original(sent.token);
    assert.equal(result.channel_id, dm);
    await h.restart();

    const from = react(fake, vera, result, '🎲', { dm: true });
    await fake.waitFor((r) => r.method === 'GET' && r.path === `/channels/${dm}`, { from });
    const rerolled = await fake.waitFor((r) => inChannel(dm)(r) && withFile(r), { from });
    await assertResultImage(rerolled);
    await h.bot.settled();
    assert.ok(!fake.requests.slice(from).some(isReactionDelete), fake.describe(from));
    assert.deepEqual(fake.invalidRequests(from), []);
  },
);

test(
  'reactions: not removed without Manage Messages; a refused re-roll says nothing in public',
  TIMEOUT,
  async () => {
    const { fake } = h;
    const wes = h.person('wes');
    const result = await stylized(wes);
    await permissions(GUILD_PERMISSIONS & ~PermissionFlagsBits.ManageMessages);
    try {
      const from = react(fake, wes, result, '🎲');
      await fake.waitFor((r) => inChannel(fake.channelId)(r) && withFile(r), { from });
      await h.bot.settled();
      assert.ok(!fake.requests.slice(from).some(isReactionDelete), fake.describe(from));
      assert.deepEqual(fake.invalidRequests(from), []);
    } finally {
      await permissions(GUILD_PERMISSIONS);
    }

    // Someone else's photo: their reaction is removed, and nothing is posted.
    const xavier = h.person('xavier');
    const from = react(fake, xavier, result, '🎲');
    await fake.waitFor(isReactionDelete, { from });
    await h.bot.settled();
    assert.ok(!fake.requests.slice(from).some((r) => r.method === 'POST'), fake.describe(from));
    assert.deepEqual(fake.invalidRequests(from), []);
  },
);

test(
  "someone else's avatar: off unless the server turns it on; then its subject may delete it",
  TIMEOUT,
  async () => {
    const { fake } = h;
    const yuri = h.person('yuri');
    const hash = 'f00d';
    fake.serve(`/cdn/avatars/${yuri.id}/${hash}.png`, photoBytes('astronaut.png'));
    const subject = { ...yuri, avatar: hash };
    const zoe = h.person('zoe');
    assert.match(
      await privateRefusal(userMenu(fake, zoe, 'Stylize avatar', subject)),
      /avatars is off here/,
    );
    // A member without Manage Server cannot turn it on.
    assert.match(
      await privateRefusal(slash(fake, zoe, 'settings', [opt.boolean('avatars', true)])),
      /^Only someone who can manage this server/,
    );
    const on = slash(fake, zoe, 'settings', [opt.boolean('avatars', true)], [], asManager(zoe));
    assert.match(await privateRefusal(on), /avatars: \*\*on\*\*/);

    const avatar = userMenu(fake, zoe, 'Stylize avatar', subject);
    await fake.waitFor((r) => isEdit(avatar.token)(r) && withFile(r), { from: avatar.from });
    const result = fake.original(avatar.token);
    const del = click(fake, yuri, result, `delete:${jobIdOf(result)}`);
    await fake.waitFor(
      (r) =>
        r.method === 'DELETE' && r.path === `/channels/${fake.channelId}/messages/${result.id}`,
      { from: del.from },
    );
    assert.ok(!fake.messages.has(result.id));
  },
);
