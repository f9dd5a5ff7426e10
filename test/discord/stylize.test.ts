/**
 * Slash commands, context menus and autocomplete through the real discord.js client against the
 * fake Discord: deferred at once, one status message edited at most once a second, the result
 * with the engine's image and its buttons.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InteractionResponseType, MessageFlags } from 'discord.js';
import {
  assertResultImage,
  buttonIds,
  cropButtons,
  isCallback,
  isEdit,
  jobIdOf,
  useHarness,
  withFile,
  PACK,
  photoBytes,
} from './harness.ts';
import type { RecordedRequest } from './fake-discord.ts';
import { autocomplete, messageMenu, opt, slash, userMenu } from './payloads.ts';

const h = useHarness();
const TIMEOUT = { timeout: 120_000 };

test(
  '/stylize: deferred before the download, status edits, a result with image and buttons',
  TIMEOUT,
  async () => {
    const { fake } = h;
    const alice = h.person('alice');
    const photo = h.cdnPhoto('astronaut.png');
    const sent = slash(
      fake,
      alice,
      'stylize',
      [opt.attachment('photo', photo), opt.string('style', PACK)],
      [photo],
    );
    const gina = h.person('gina');
    const other = h.cdnPhoto('i5R8hbZFDdc.jpg');
    const behind = slash(fake, gina, 'stylize', [opt.attachment('photo', other)], [other]);

    const callback = await fake.waitFor(isCallback(sent.id), {
      from: sent.from,
      what: 'the defer',
    });
    assert.equal(callback.body?.type, InteractionResponseType.DeferredChannelMessageWithSource);
    assert.equal(((callback.body?.data ?? {}) as { flags?: number }).flags ?? 0, 0, 'public');
    const download = await fake.waitFor((r) => r.path === new URL(photo.url).pathname, {
      from: sent.from,
    });
    assert.ok(
      fake.requests.indexOf(callback) < fake.requests.indexOf(download),
      'deferred before any I/O',
    );

    const result = await fake.waitFor((r) => isEdit(sent.token)(r) && withFile(r), {
      from: sent.from,
      what: 'the result',
    });
    await assertResultImage(result);
    const jobId = jobIdOf(result);
    assert.deepEqual(buttonIds(result), cropButtons(jobId));
    assert.match(String(result.body?.content), new RegExp(`^${PACK} · exemplar 0`));

    const statuses = statusEdits(sent.token, sent.from);
    assert.ok(statuses.length >= 1, `status edits:\n${fake.describe(sent.from)}`);
    assert.deepEqual(buttonIds(statuses[0]!), [`cancel:${jobId}`]);
    assert.ok(
      statuses.every((s) => s.at <= result.at),
      'no status edit after the result',
    );
    assertSpaced(statuses);

    // Two jobs at once: whichever waits behind the other shows its place in line.
    await assertResultImage(
      await fake.waitFor((r) => isEdit(behind.token)(r) && withFile(r), { from: behind.from }),
    );
    const theirs = statusEdits(behind.token, behind.from);
    assertSpaced(theirs);
    const firsts = [statuses[0], theirs[0]].map((s) => String(s?.body?.content));
    assert.ok(
      firsts.some((text) => /^⏳ Queued: #\d+ in line/.test(text)),
      firsts.join('\n'),
    );
  },
);

/** The status edits of an interaction's message. */
function statusEdits(token: string, from: number): RecordedRequest[] {
  return h.fake.requests
    .slice(from)
    .filter((r) => isEdit(token)(r) && String(r.body?.content).startsWith('⏳'));
}

/**
 * No two edits say the same thing (the latest status wins). Their spacing, at most one per
 * STATUS_INTERVAL_MS, is counted on a fake clock in view.test.ts.
 */
function assertSpaced(edits: RecordedRequest[]): void {
  const texts = edits.map((e) => String(e.body?.content));
  for (let i = 1; i < texts.length; i++) {
    assert.notEqual(texts[i], texts[i - 1], `the same status twice in a row: ${texts.join(' | ')}`);
  }
}

test('autocomplete answers from the installed packs', TIMEOUT, async () => {
  const { fake } = h;
  const bob = h.person('bob');
  const styles = autocomplete(fake, bob, 'stylize', [opt.string('style', 'dem', true)]);
  const styleAnswer = await fake.waitFor(isCallback(styles.id), { from: styles.from });
  assert.equal(
    styleAnswer.body?.type,
    InteractionResponseType.ApplicationCommandAutocompleteResult,
  );
  const styleChoices = (styleAnswer.body?.data as { choices: { name: string; value: string }[] })
    .choices;
  assert.deepEqual(
    styleChoices.map((c) => c.value),
    [PACK],
  );

  const exemplars = autocomplete(fake, bob, 'stylize', [
    opt.string('style', PACK),
    opt.string('exemplar', '', true),
  ]);
  const answer = await fake.waitFor(isCallback(exemplars.id), { from: exemplars.from });
  const choices = (answer.body?.data as { choices: { name: string; value: string }[] }).choices;
  const { exemplars: names } = h.commands.styles().find((s) => s.name === PACK)!;
  assert.equal(choices[0]?.value, 'random');
  assert.deepEqual(
    choices.slice(1, 3).map((c) => c.value),
    ['0', '1'],
  );
  assert.equal(choices[1]?.name, `0 · ${names[0]}`);
  assert.ok(choices.length <= 25);
});

test(
  '/style random without a photo gives a random portrait, with one a sampled style',
  TIMEOUT,
  async () => {
    const { fake } = h;
    const erin = h.person('erin');
    const bare = slash(fake, erin, 'style', [opt.sub('random')]);
    const first = await fake.waitFor((r) => isEdit(bare.token)(r) && withFile(r), {
      from: bare.from,
    });
    await assertResultImage(first);
    assert.match(String(first.body?.content), /random face/);

    const photo = h.cdnPhoto('astronaut.png');
    const withPhoto = slash(
      fake,
      erin,
      'style',
      [opt.sub('random', [opt.attachment('photo', photo)])],
      [photo],
    );
    const second = await fake.waitFor((r) => isEdit(withPhoto.token)(r) && withFile(r), {
      from: withPhoto.from,
    });
    await assertResultImage(second);
    assert.match(String(second.body?.content), /sampled style/);
    assert.doesNotMatch(String(second.body?.content), /random face/);
  },
);

test('"Stylize photo" on a message with a photo, "Stylize avatar" on a user', TIMEOUT, async () => {
  const { fake } = h;
  const frank = h.person('frank');
  const photo = h.cdnPhoto('astronaut.png');
  const posted = fake.postAs(frank, { content: 'me!', attachments: [photo] });
  const menu = messageMenu(fake, frank, 'Stylize photo', posted);
  const callback = await fake.waitFor(isCallback(menu.id), { from: menu.from });
  assert.equal(callback.body?.type, InteractionResponseType.DeferredChannelMessageWithSource);
  await assertResultImage(
    await fake.waitFor((r) => isEdit(menu.token)(r) && withFile(r), { from: menu.from }),
  );

  const bare = fake.postAs(frank, { content: 'no picture here' });
  const refused = messageMenu(fake, frank, 'Stylize photo', bare);
  const reply = await fake.waitFor(isCallback(refused.id), { from: refused.from });
  assert.equal(reply.body?.type, InteractionResponseType.ChannelMessageWithSource);
  const data = reply.body?.data as { content: string; flags: number };
  assert.equal(data.flags, MessageFlags.Ephemeral);
  assert.match(data.content, /no photo/);

  const avatarHash = 'a1b2c3';
  fake.serve(`/cdn/avatars/${frank.id}/${avatarHash}.png`, photoBytes('astronaut.png'));
  const avatar = userMenu(fake, frank, 'Stylize avatar', { ...frank, avatar: avatarHash });
  await assertResultImage(
    await fake.waitFor((r) => isEdit(avatar.token)(r) && withFile(r), { from: avatar.from }),
  );
});
