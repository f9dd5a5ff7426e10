/**
 * Issue 13 on Discord, through the real discord.js client against the fake: `/stylize`'s whole
 * photo, every face, preset, truncation, reconstruction, encoder and style references; `/style
 * blend`; `/style random count:4` and its buttons 1–4; the 🔀 and whole-photo buttons. Each
 * checks the request the engine was sent and the reply the user sees.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { APIMessage, APIUser } from 'discord.js';
import sharp from 'sharp';
import { parseStyleRef, resultRef } from '../../src/engine/style-ref.ts';
import type { RecordedRequest } from './fake-discord.ts';
import {
  buttonIds,
  cropButtons,
  isCallback,
  isEdit,
  jobIdOf,
  lastRequest,
  PACK,
  photoBytes,
  useHarness,
  withFile,
} from './harness.ts';
import { autocomplete, click, messageMenu, opt, slash, type Sent } from './payloads.ts';

// A grid counts four pictures, and the test keeps one more.
const h = useHarness({ perHour: 8 });
const TIMEOUT = { timeout: 180_000 };

/** The result an interaction's answer became, with its message. */
async function resultOf(sent: Sent): Promise<{ edit: RecordedRequest; message: APIMessage }> {
  const edit = await h.fake.waitFor((r) => isEdit(sent.token)(r) && withFile(r), {
    from: sent.from,
    what: 'the result',
  });
  return { edit, message: await h.fake.original(sent.token) };
}

type Option = ReturnType<typeof opt.string>;

/** A command with a fixture photo attached as `photo`, in subcommand `sub` if given. */
function withPhoto(
  who: APIUser,
  command: string,
  options: Option[],
  { sub, name = 'astronaut.png' }: { sub?: string; name?: string } = {},
): Sent {
  const photo = h.cdnPhoto(name);
  const all = [opt.attachment('photo', photo), ...options];
  return slash(h.fake, who, command, sub ? [opt.sub(sub, all)] : all, [photo]);
}

/** A /stylize of a fixture photo with more options. */
const stylize = (who: APIUser, name: string, options: Option[]): Sent =>
  withPhoto(who, 'stylize', options, { name });

const size = async (bytes: Uint8Array): Promise<[number, number]> => {
  const meta = await sharp(bytes).metadata();
  return [meta.width!, meta.height!];
};

/** The style reference a result names (`style: \`…\``). */
function referenceIn(edit: RecordedRequest): string {
  const found = /style: `([^`]+)`/.exec(String(edit.body?.content));
  assert.ok(found, `no reference in ${String(edit.body?.content)}`);
  return found[1]!;
}

/** The photo-needed sentence, in place of the interaction's status message; its text. */
async function needsPhoto(sent: Sent): Promise<string> {
  const edit = await h.fake.waitFor(
    (r) => isEdit(sent.token)(r) && /I need the photo itself/.test(String(r.body?.content)),
    { from: sent.from, what: 'the photo-needed sentence' },
  );
  assert.equal(edit.files.length, 0);
  return String(edit.body?.content);
}

test(
  '/stylize whole_photo, preset, truncation and encoder reach the engine; the result is the photo',
  TIMEOUT,
  async () => {
    const ann = h.person('ann');
    const sent = stylize(ann, 'astronaut.png', [
      opt.boolean('whole_photo', true),
      opt.string('preset', 'colour-only'),
      opt.number('truncation', 0.5),
      opt.string('encoder', 'identity'),
    ]);
    const { edit } = await resultOf(sent);
    const request = lastRequest(h, ann);
    assert.equal(request.output, 'photo');
    assert.equal(request.preset, 'colour-only');
    assert.equal(request.truncation, 0.5);
    assert.equal(request.encoder, 'identity');
    assert.equal(request.face.kind, 'photo');
    assert.deepEqual(
      await size(edit.files[0]!.bytes),
      await size(photoBytes('astronaut.png')),
      'the whole photo, at its own size',
    );
    assert.equal(referenceIn(edit), `${PACK}:0`);
    const jobId = jobIdOf(edit);
    // Already the whole photo: no button for it; 🔀 beside the other re-rolls.
    assert.deepEqual(buttonIds(edit), cropButtons(jobId).slice(0, -1));
  },
);

test('/stylize all_faces and reconstruct on a group photo', TIMEOUT, async () => {
  const bo = h.person('bo');
  const sent = stylize(bo, 'two_faces.png', [
    opt.boolean('all_faces', true),
    opt.boolean('reconstruct', true),
  ]);
  const { edit } = await resultOf(sent);
  const request = lastRequest(h, bo);
  assert.equal(request.faces, 'all');
  assert.equal(request.output, 'photo');
  assert.equal(request.reconstruct, true);
  assert.match(String(edit.body?.content), /2 faces stylized/);
  assert.match(String(edit.body?.content), /reconstruction/);
});

test(
  '/stylize style: takes the references results print: seeds, a fusion, result:<id>',
  TIMEOUT,
  async () => {
    const cy = h.person('cy');
    const seeds = `${PACK}:random:aa:bb`;
    const first = await resultOf(stylize(cy, 'astronaut.png', [opt.string('style', seeds)]));
    assert.deepEqual(lastRequest(h, cy).style, {
      kind: 'sampled',
      pack: PACK,
      structureSeed: 'aa',
      colorSeed: 'bb',
    });
    assert.equal(referenceIn(first.edit), seeds);

    // No photo: the last one; the style of that result by its id.
    const again = slash(h.fake, cy, 'stylize', [
      opt.string('style', resultRef(jobIdOf(first.edit))),
    ]);
    const second = await resultOf(again);
    assert.equal(referenceIn(second.edit), seeds);
    assert.equal(lastRequest(h, cy).face.kind, 'cached-photo');
    // The same style on the same photo: the same picture.
    assert.deepEqual(second.edit.files[0]!.bytes, first.edit.files[0]!.bytes);

    const fused = `${PACK}:1+random:aa:bb@0.25`;
    const third = await resultOf(slash(h.fake, cy, 'stylize', [opt.string('style', fused)]));
    assert.deepEqual(lastRequest(h, cy).style, (parseStyleRef(fused) as { style: unknown }).style);
    assert.equal(referenceIn(third.edit), fused);
  },
);

test('/style blend a b ratio fuses the two; the result names the fusion', TIMEOUT, async () => {
  const di = h.person('di');
  const sent = withPhoto(
    di,
    'style',
    [opt.string('a', '0'), opt.string('b', `${PACK}:random:aa:bb`), opt.number('ratio', 0.25)],
    { sub: 'blend' },
  );
  const { edit } = await resultOf(sent);
  assert.deepEqual(lastRequest(h, di).style, {
    kind: 'blend',
    pack: PACK,
    a: { kind: 'exemplar', exemplar: 0 },
    b: { kind: 'sampled', structureSeed: 'aa', colorSeed: 'bb' },
    ratio: 0.25,
  });
  assert.equal(referenceIn(edit), `${PACK}:0+random:aa:bb@0.25`);
});

test(
  '/style random count:4: one 2×2 grid from one request; button 3 keeps the third style',
  TIMEOUT,
  async () => {
    const ed = h.person('ed');
    const sent = withPhoto(ed, 'style', [opt.integer('count', 4)], { sub: 'random' });
    const grid = await resultOf(sent);
    const request = lastRequest(h, ed);
    assert.equal(request.variants?.length, 3);
    assert.equal(request.columns, 2);
    assert.deepEqual(await size(grid.edit.files[0]!.bytes), [128, 128]);
    const jobId = jobIdOf(grid.edit);
    assert.deepEqual(buttonIds(grid.edit), [
      `pick:1:${jobId}`,
      `pick:2:${jobId}`,
      `pick:3:${jobId}`,
      `pick:4:${jobId}`,
      `delete:${jobId}`,
    ]);
    const tiles = [...String(grid.edit.body?.content).matchAll(/^(\d): `([^`]+)`$/gm)].map(
      (m) => m[2]!,
    );
    assert.equal(new Set(tiles).size, 4, 'four distinct styles');

    const before = h.submitted.length;
    const keep = click(h.fake, ed, grid.message, `pick:3:${jobId}`);
    const kept = await resultOf(keep);
    assert.equal(h.submitted.length, before + 1);
    assert.equal(lastRequest(h, ed).variants, undefined);
    assert.deepEqual(
      lastRequest(h, ed).style,
      (parseStyleRef(tiles[2]!) as { style: unknown }).style,
    );
    assert.equal(referenceIn(kept.edit), tiles[2]);
    assert.deepEqual(await size(kept.edit.files[0]!.bytes), [64, 64]);
  },
);

test('🔀 fuses the style half and half with a new one', TIMEOUT, async () => {
  const fi = h.person('fi');
  const first = await resultOf(stylize(fi, 'astronaut.png', [opt.string('exemplar', '2')]));
  const jobId = jobIdOf(first.edit);
  assert.deepEqual(buttonIds(first.edit), cropButtons(jobId));
  const fuse = click(h.fake, fi, first.message, `reroll:fuse:${jobId}`);
  const fused = await resultOf(fuse);
  const style = lastRequest(h, fi).style;
  assert.equal(style.kind, 'blend');
  assert.deepEqual(style.kind === 'blend' && [style.a, style.ratio], [
    { kind: 'exemplar', exemplar: 2 },
    0.5,
  ]);
  assert.match(referenceIn(fused.edit), new RegExp(`^${PACK}:2\\+.+@0\\.5$`));
});

test(
  'Whole photo: from "Stylize photo" the bot fetches the photo again; else it says to attach it',
  TIMEOUT,
  async () => {
    const { fake } = h;
    const gus = h.person('gus');
    const posted = fake.postAs(gus, { content: 'me', attachments: [h.cdnPhoto('astronaut.png')] });
    const menu = await resultOf(messageMenu(fake, gus, 'Stylize photo', posted));
    const jobId = jobIdOf(menu.edit);
    const whole = `whole:${jobId}:${posted.channel_id}:${posted.id}`;
    assert.ok(buttonIds(menu.edit).includes(whole), buttonIds(menu.edit).join(' '));
    assert.ok(whole.length <= 100);

    const pasted = await resultOf(click(fake, gus, menu.message, whole));
    const request = lastRequest(h, gus);
    assert.equal(request.output, 'photo');
    assert.equal(request.face.kind, 'photo');
    assert.deepEqual(request.style, { kind: 'exemplar', pack: PACK, exemplar: 0 });
    assert.deepEqual(
      await size(pasted.edit.files[0]!.bytes),
      await size(photoBytes('astronaut.png')),
    );
    assert.equal(referenceIn(pasted.edit), `${PACK}:0`);

    // An attached photo is kept here for no minute (privacy.keepPhotosMinutes 0): the answer
    // says how to send it again, in place of the status.
    const hal = h.person('hal');
    const attached = await resultOf(stylize(hal, 'astronaut.png', []));
    const own = jobIdOf(attached.edit);
    assert.ok(buttonIds(attached.edit).includes(`whole:${own}`));
    const press = click(fake, hal, attached.message, `whole:${own}`);
    const said = await needsPhoto(press);
    assert.ok(said.includes(`style:result:${own}`), said);
    assert.equal(lastRequest(h, hal).output, 'photo');
    assert.equal(lastRequest(h, hal).face.kind, 'cached-photo');

    // So does /stylize whole_photo:True on "your last photo".
    await needsPhoto(slash(fake, hal, 'stylize', [opt.boolean('whole_photo', true)]));

    // The source message deleted since: the same sentence, in place of the status.
    const ida = h.person('ida');
    const gone = fake.postAs(ida, { content: 'me', attachments: [h.cdnPhoto('astronaut.png')] });
    const hers = await resultOf(messageMenu(fake, ida, 'Stylize photo', gone));
    fake.messages.delete(gone.id);
    const herJob = jobIdOf(hers.edit);
    const again = click(fake, ida, hers.message, `whole:${herJob}:${gone.channel_id}:${gone.id}`);
    assert.ok((await needsPhoto(again)).includes(`style:result:${herJob}`));
  },
);

test('autocomplete offers style references, for style and a blend', TIMEOUT, async () => {
  const jo = h.person('jo');
  const choicesOf = async (sent: Sent): Promise<string[]> => {
    const answer = await h.fake.waitFor(isCallback(sent.id), { from: sent.from });
    assert.equal(answer.status, 204, 'within the limits');
    return (answer.body?.data as { choices: { value: string }[] }).choices.map((c) => c.value);
  };
  const refs = await choicesOf(
    autocomplete(h.fake, jo, 'stylize', [opt.string('style', `${PACK}:`, true)]),
  );
  assert.deepEqual(refs.slice(0, 3), [`${PACK}:random`, `${PACK}:0`, `${PACK}:1`]);
  assert.ok(refs.length <= 25);
  const typed = await choicesOf(
    autocomplete(h.fake, jo, 'stylize', [opt.string('style', 'result:abc', true)]),
  );
  assert.deepEqual(typed, ['result:abc']);
  const side = await choicesOf(
    autocomplete(h.fake, jo, 'style', [opt.sub('blend', [opt.string('a', '1', true)])]),
  );
  assert.equal(side[0], `${PACK}:1`);
});
