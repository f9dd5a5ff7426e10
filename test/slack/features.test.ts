/**
 * Issue 13 on Slack, through the real Bolt app and the fake Web API: the modal's new fields
 * (whole photo, every face, preset, truncation, reconstruct, encoder, a style reference, an own
 * exemplar image), the same as words, `/style blend`, `/style random count:4` with Keep 1–4,
 * 🔀 and "Whole photo" on a result, and the reusable style reference on every result. Each is
 * checked where it matters: the request the engine received.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { WEIGHT_PRESETS } from '../../src/engine/presets.ts';
import type { StylizeRequest } from '../../src/engine/request.ts';
import { FIXTURES, tempDir } from '../helpers/packs.ts';
import {
  buttonClick,
  nextResult,
  openedView,
  selected,
  textsSince,
  viewSubmission,
  type Block,
  type PostedResult,
} from './flows.ts';
import { Harness, PACK } from './harness.ts';
import { commandRequest, eventRequest } from './signed.ts';

const fixture = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, 'alignment', name)));
const EXEMPLAR_IMAGE = 'i5R8hbZFDdc.jpg';
const GROUP = 'two_faces.png';

describe(
  'slack: whole photos, every face, fusion, grids, references, own exemplar',
  { timeout: 300_000 },
  () => {
    const dir = tempDir('slack-features');
    let h: Harness;
    let mentions = 0;
    /** U1's result from astronaut.png with exemplar 2, made in `before`. */
    let first: PostedResult;

    before(async () => {
      h = await Harness.start(dir);
      for (const name of [EXEMPLAR_IMAGE, GROUP]) h.fake.files.set(name, fixture(name));
      const from = h.fake.calls.length;
      await h.send(mention('U1', `${PACK}:2`, 'C1', ['astronaut.png']));
      first = await nextResult(h.fake, from);
    });
    after(() => h.close());

    function mention(user: string, text: string, channel = 'C1', files: string[] = []) {
      return eventRequest({
        type: 'app_mention',
        user,
        text: `<@UBOT> ${text}`,
        ts: `1699999700.00${String(++mentions).padStart(4, '0')}`,
        channel,
        ...(files.length > 0 && { files: files.map((f) => h.file(f)) }),
      });
    }
    const slash = (command: string, text: string, user = 'U1', channel = 'C1') =>
      commandRequest({
        command,
        text,
        user,
        channel,
        responseUrl: h.fake.responseUrl(`${user}-${command}-${Math.random()}`),
      });
    const click = (user: string, on: PostedResult, actionId: string) =>
      h.send(
        buttonClick({
          user,
          channel: on.channel,
          message: { ts: on.ts, ...(on.threadTs && { thread_ts: on.threadTs }) },
          actionId,
          value: jobOf(on),
          responseUrl: h.fake.responseUrl(`${user}-${actionId}-${Math.random()}`),
        }),
      );
    const jobOf = (result: PostedResult): string =>
      result.blocks.find((b) => b.type === 'actions')!.elements![0]!.value!;
    const actionIds = (result: PostedResult): (string | undefined)[] =>
      result.blocks.find((b) => b.type === 'actions')!.elements!.map((e) => e.action_id);
    const contextText = (result: PostedResult): string =>
      JSON.stringify(result.blocks.find((b) => b.type === 'context'));
    /** The one request submitted since `from` (an index into `h.requests`). */
    const requestSince = (from: number): StylizeRequest => {
      const sent = h.requests.slice(from);
      assert.equal(sent.length, 1, `one engine request, got ${sent.length}`);
      return sent[0]!;
    };
    const photoBytes = (request: StylizeRequest): Uint8Array => {
      assert.equal(request.face.kind, 'photo');
      return (request.face as { bytes: Uint8Array }).bytes;
    };
    /** Opens the modal with `/stylize text` and returns the view Slack was asked to show. */
    const openModal = async (text = '', user = 'U1') => {
      const from = h.fake.calls.length;
      await h.send(slash('/stylize', text, user));
      return openedView(await h.fake.waitFor('views.open', undefined, { from }));
    };

    it('the modal has every new field, filled in from the typed words', async () => {
      const view = await openModal(
        `${PACK}:1+2@0.3 whole all-faces preset=colour-only truncation=0.7 reconstruct encoder=identity`,
      );
      const element = (id: string) => view.blocks.find((b) => b.block_id === id)?.element ?? {};
      assert.equal(element('style_ref').type, 'plain_text_input');
      assert.equal(element('style_ref').initial_value, `${PACK}:1+2@0.3`);
      assert.equal(element('style_image').type, 'file_input');
      assert.deepEqual(element('style_image').filetypes, ['jpg', 'jpeg', 'png', 'webp']);
      assert.equal(element('style_image').max_files, 1);
      assert.equal(element('preset').type, 'static_select');
      const presets = element('preset').options as { value: string; text: { text: string } }[];
      assert.deepEqual(
        presets.map((o) => o.value),
        Object.keys(WEIGHT_PRESETS),
      );
      assert.ok(
        presets.every((o) => o.text.text.length <= 75),
        'option texts within 75 characters',
      );
      assert.equal((element('preset').initial_option as { value: string }).value, 'colour-only');
      assert.equal(element('truncation').type, 'number_input');
      assert.equal(element('truncation').initial_value, '0.7');
      assert.equal(element('encoder').type, 'radio_buttons');
      assert.equal((element('encoder').initial_option as { value: string }).value, 'identity');
      assert.equal(element('output').type, 'checkboxes');
      assert.deepEqual(
        (element('output').initial_options as { value: string }[]).map((o) => o.value),
        ['whole', 'all-faces', 'reconstruct'],
      );
      assert.ok(view.blocks.length <= 100, 'Block Kit allows 100 blocks in a modal');
    });

    it('every new field of a submission reaches the engine: whole photo, all faces, preset, truncation, encoder, reference', async () => {
      const view = await openModal();
      const requests = h.requests.length;
      const from = h.fake.calls.length;
      await h.send(
        viewSubmission(view, 'U2', {
          photo: { photo: { type: 'file_input', files: [h.file(GROUP)] } },
          style_ref: { style_ref: { type: 'plain_text_input', value: ` ${PACK}:3 ` } },
          preset: { preset: { type: 'static_select', selected_option: { value: 'colour-only' } } },
          truncation: { truncation: { type: 'number_input', value: '0.7' } },
          encoder: { encoder: { type: 'radio_buttons', selected_option: { value: 'identity' } } },
          output: {
            output: {
              type: 'checkboxes',
              selected_options: [{ value: 'whole' }, { value: 'all-faces' }],
            },
          },
        }),
      );
      const result = await nextResult(h.fake, from);
      const request = requestSince(requests);
      assert.deepEqual(request.style, { kind: 'exemplar', pack: PACK, exemplar: 3 });
      assert.equal(request.preset, 'colour-only');
      assert.equal(request.truncation, 0.7);
      assert.equal(request.encoder, 'identity');
      assert.equal(request.output, 'photo');
      assert.equal(request.faces, 'all');
      assert.ok(Buffer.from(photoBytes(request)).equals(fixture(GROUP)), 'the uploaded photo');
      assert.match(result.text, /2 faces stylized/);
      const [out, source] = await Promise.all([
        sharp(result.bytes).metadata(),
        sharp(fixture(GROUP)).metadata(),
      ]);
      assert.deepEqual([out.width, out.height], [source.width, source.height]);
      // Re-rolls, but no "Whole photo": it is one already.
      assert.deepEqual(actionIds(result), [
        'pastiche_reroll_style',
        'pastiche_reroll_structure',
        'pastiche_reroll_color',
        'pastiche_reroll_fuse',
        'pastiche_delete',
      ]);
      assert.match(contextText(result), new RegExp(`/stylize style=${PACK}:3`));
    });

    it('an own exemplar image uploaded in the modal is downloaded and used as the style', async () => {
      h.fake.files.set('notes.txt', new TextEncoder().encode('not a picture'));
      const view = await openModal();
      const requests = h.requests.length;
      const from = h.fake.calls.length;
      await h.send(
        viewSubmission(view, 'U1', {
          photo: { photo: { type: 'file_input', files: [h.file('astronaut.png')] } },
          style_image: { style_image: { type: 'file_input', files: [h.file(EXEMPLAR_IMAGE)] } },
          pack: { pack: selected(PACK) },
        }),
      );
      const result = await nextResult(h.fake, from);
      const request = requestSince(requests);
      assert.equal(request.style.kind, 'image');
      const image = (request.style as { image: Uint8Array }).image;
      assert.ok(Buffer.from(image).equals(fixture(EXEMPLAR_IMAGE)), 'the exemplar image’s bytes');
      assert.ok(Buffer.from(photoBytes(request)).equals(fixture('astronaut.png')));
      assert.match(result.text, /your exemplar image/);
      assert.match(result.text, new RegExp(`style: \`${PACK}:image:[0-9a-f]+\``));

      // A file that is no image is refused in words, only to the one who sent it.
      const responses = h.fake.responses.length;
      const other = await openModal();
      await h.send(
        viewSubmission(other, 'U1', {
          style_image: {
            style_image: {
              type: 'file_input',
              files: [{ ...h.file('notes.txt'), mimetype: 'text/plain' }],
            },
          },
        }),
      );
      const refusal = await h.fake.waitForResponse(responses);
      assert.match(String(refusal.text), /isn't an image I can read/);
      assert.equal(h.requests.length, requests + 1, 'nothing more reached the engine');
    });

    it('the same options as words after @Pastiche: reconstruct, encoder, truncation, preset', async () => {
      const requests = h.requests.length;
      const from = h.fake.calls.length;
      await h.send(
        mention('U3', `${PACK}:4 reconstruct encoder=identity truncation=0.5 preset=gentle`, 'C1', [
          'astronaut.png',
        ]),
      );
      const result = await nextResult(h.fake, from);
      const request = requestSince(requests);
      assert.equal(request.reconstruct, true);
      assert.equal(request.encoder, 'identity');
      assert.equal(request.truncation, 0.5);
      assert.equal(request.preset, 'gentle');
      assert.match(result.text, /reconstruction \(no style\)/);
    });

    it('a result names its style reference, and the reference gives the same picture again', async () => {
      assert.match(first.text, new RegExp(`style: \`${PACK}:2\``));
      assert.match(
        contextText(first),
        new RegExp(`Reuse this style on any photo: \`/stylize style=${PACK}:2\``),
      );
      let from = h.fake.calls.length;
      await click('U1', first, 'pastiche_reroll_style');
      const sampled = await nextResult(h.fake, from);
      const reference = /style: `([^`]+)`/.exec(sampled.text)?.[1];
      assert.match(reference ?? '', new RegExp(`^${PACK}:random:\\w+:\\w+$`));

      from = h.fake.calls.length;
      await h.send(mention('U1', `style=${reference}`, 'C1', ['astronaut.png']));
      const again = await nextResult(h.fake, from);
      assert.match(again.text, new RegExp(`style: \`${reference}\``));
      assert.ok(Buffer.from(again.bytes).equals(Buffer.from(sampled.bytes)), 'the same picture');
    });

    it('🔀 fuses the result’s style half and half with a new one', async () => {
      const requests = h.requests.length;
      const from = h.fake.calls.length;
      await click('U1', first, 'pastiche_reroll_fuse');
      const fused = await nextResult(h.fake, from);
      const request = requestSince(requests);
      assert.equal(request.style.kind, 'blend');
      const blend = request.style as Extract<StylizeRequest['style'], { kind: 'blend' }>;
      assert.deepEqual(blend.a, { kind: 'exemplar', exemplar: 2 });
      assert.equal(blend.ratio, 0.5);
      assert.match(fused.text, new RegExp(`style: \`${PACK}:2\\+[^\`]+@0\\.5\``));
      assert.equal((await h.commands.job(jobOf(fused)))?.parentJobId, jobOf(first));
    });

    it('"Whole photo" on a crop pastes the same style into the photo, kept since it was sent', async () => {
      assert.ok(actionIds(first).includes('pastiche_whole_photo'));
      // Someone else's click is refused, privately.
      const responses = h.fake.responses.length;
      await click('U2', first, 'pastiche_whole_photo');
      assert.match(String((await h.fake.waitForResponse(responses)).text), /Only the person/);

      const requests = h.requests.length;
      const from = h.fake.calls.length;
      await click('U1', first, 'pastiche_whole_photo');
      const whole = await nextResult(h.fake, from);
      const request = requestSince(requests);
      assert.equal(request.output, 'photo');
      assert.deepEqual(request.style, { kind: 'exemplar', pack: PACK, exemplar: 2 });
      const [out, source] = await Promise.all([
        sharp(whole.bytes).metadata(),
        sharp(fixture('astronaut.png')).metadata(),
      ]);
      assert.deepEqual([out.width, out.height], [source.width, source.height]);
      assert.equal(whole.threadTs, first.threadTs, 'beside the crop');
      assert.equal((await h.commands.job(jobOf(whole)))?.parentJobId, jobOf(first));
    });

    it('/style random count:4 posts one 2×2 grid with Keep 1–4; a button renders that style alone', async () => {
      const requests = h.requests.length;
      let from = h.fake.calls.length;
      const response = await h.send(slash('/style', 'random count:4'));
      assert.equal(response.status, 200);
      const grid = await nextResult(h.fake, from);
      const request = requestSince(requests);
      assert.equal(request.variants?.length, 3, 'four styles in one request');
      assert.equal(request.columns, 2);
      assert.deepEqual(actionIds(grid), [
        'pastiche_pick_1',
        'pastiche_pick_2',
        'pastiche_pick_3',
        'pastiche_pick_4',
        'pastiche_delete',
      ]);
      const tiles = (await h.commands.job(jobOf(grid)))?.tiles ?? [];
      assert.equal(new Set(tiles).size, 4, 'four distinct styles');
      for (const [i, tile] of tiles.entries())
        assert.ok(grid.text.includes(`${i + 1}: \`${tile}\``));
      const [meta] = await Promise.all([sharp(grid.bytes).metadata()]);
      assert.equal(meta.width, meta.height, 'a square of four squares');

      from = h.fake.calls.length;
      await click('U1', grid, 'pastiche_pick_3');
      const kept = await nextResult(h.fake, from);
      assert.match(kept.text, new RegExp(`style: \`${tiles[2]!.replace(/[+.]/g, '\\$&')}\``));
      assert.equal(h.requests.at(-1)?.variants, undefined, 'one picture');

      const bad = await h.send(slash('/style', 'random count:3'));
      assert.match(bad.text, /count must be 1 or 4, not "3"/);
    });

    it('/style blend a b ratio fuses two exemplars on your photo; a strip has Keep 1–6', async () => {
      let requests = h.requests.length;
      let from = h.fake.calls.length;
      await h.send(slash('/style', 'blend 2 5 0.25'));
      const blended = await nextResult(h.fake, from);
      assert.deepEqual(requestSince(requests).style, {
        kind: 'blend',
        pack: PACK,
        a: { kind: 'exemplar', exemplar: 2 },
        b: { kind: 'exemplar', exemplar: 5 },
        ratio: 0.25,
      });
      assert.match(blended.text, new RegExp(`style: \`${PACK}:2\\+5@0\\.25\``));

      requests = h.requests.length;
      from = h.fake.calls.length;
      await h.send(slash('/style', `blend ${PACK}:1 ${PACK}:6 strip`));
      const strip = await nextResult(h.fake, from);
      assert.equal(requestSince(requests).variants?.length, 5);
      assert.equal(actionIds(strip).filter((id) => id?.startsWith('pastiche_pick_')).length, 6);

      for (const [text, pattern] of [
        ['blend 2', /needs two styles/],
        ['blend 2 5 1.5', /ratio must be from 0 to 1, not "1\.5"/],
      ] as const) {
        assert.match((await h.send(slash('/style', text))).text, pattern);
      }
      const blocks = strip.blocks as Block[];
      assert.ok(
        blocks.every((b) => (b.text?.text.length ?? 0) <= 3000),
        'section texts fit',
      );
    });
  },
);

describe('slack: a whole photo once the photo is no longer kept', { timeout: 180_000 }, () => {
  const dir = tempDir('slack-photo-needed');
  let h: Harness;
  before(async () => {
    h = await Harness.start(dir, { env: { PASTICHE_PRIVACY_KEEP_PHOTOS_MINUTES: '0' } });
  });
  after(() => h.close());

  const sentence = (a: Record<string, unknown>) =>
    /To paint the whole photo I need the photo itself/.test(String(a.text));

  it('the button and `whole` without a photo say how to bring the photo back, in Slack terms', async () => {
    let from = h.fake.calls.length;
    await h.send(
      eventRequest({
        type: 'app_mention',
        user: 'U1',
        text: `<@UBOT> ${PACK}:1`,
        ts: '1699999800.000100',
        channel: 'C1',
        files: [h.file('astronaut.png')],
      }),
    );
    const crop = await nextResult(h.fake, from);
    const responses = h.fake.responses.length;
    from = h.fake.calls.length;
    await h.send(
      buttonClick({
        user: 'U1',
        channel: crop.channel,
        message: { ts: crop.ts, ...(crop.threadTs && { thread_ts: crop.threadTs }) },
        actionId: 'pastiche_whole_photo',
        value: crop.blocks.find((b) => b.type === 'actions')!.elements![0]!.value!,
        responseUrl: h.fake.responseUrl('whole-U1'),
      }),
    );
    // The engine's `photo-needed`: in place of the status if one was posted yet, else only to
    // the asker (here through the click's response URL).
    const refusal = await Promise.any([
      h.fake.waitFor('chat.update', sentence, { from }).then((c) => String(c.args.text)),
      h.fake.waitForResponse(responses).then((r) => String(r.text)),
    ]);
    assert.match(refusal, /To paint the whole photo I need the photo itself/);
    assert.match(refusal, /\/stylize whole/);

    from = h.fake.calls.length;
    await h.send(
      eventRequest({
        type: 'app_mention',
        user: 'U1',
        text: `<@UBOT> ${PACK}:1 whole`,
        ts: '1699999800.000200',
        channel: 'C2',
      }),
    );
    await Promise.any(
      ['chat.update', 'chat.postEphemeral'].map((m) => h.fake.waitFor(m, sentence, { from })),
    );
    assert.ok(!textsSince(h.fake, from).some((t) => /attach it again/.test(t)));
  });
});
