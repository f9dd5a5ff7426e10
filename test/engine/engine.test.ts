/**
 * The engine end to end on the 64 px demo pack: photo → image, the cache, sampled styles,
 * cancellation, fairness, timeouts, and bad input that must not stop the engine.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { Engine, type StylizeResult } from '../../src/engine/engine.ts';
import { NoFaceError, UserError, type UserErrorCode } from '../../src/engine/errors.ts';
import type { StylizeRequest } from '../../src/engine/request.ts';
import { pngHeaderOnly } from '../helpers/images.ts';
import { installDemoPacks } from '../helpers/demo-packs.ts';
import { FIXTURES, tempDir } from '../helpers/packs.ts';

const photo = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(join(FIXTURES, 'alignment', name)));
const astronaut = photo('astronaut.png');
const PACK = 'demo-64';

async function assertUserError(promise: Promise<unknown>, code: UserErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

describe('engine', { timeout: 300_000 }, () => {
  const models = tempDir('engine');
  let engine: Engine;
  const request = (extra: Partial<StylizeRequest> = {}): StylizeRequest => ({
    userId: 'alice',
    face: { kind: 'photo', bytes: astronaut },
    style: { kind: 'exemplar', pack: PACK, exemplar: 1 },
    ...extra,
  });

  before(async () => {
    await installDemoPacks(models, 64);
    engine = await Engine.create({ modelsDir: models, cacheUrl: 'memory' });
    await engine.preload(PACK);
  });
  after(() => engine.close());

  it('lists the installed style packs', () => {
    const [style] = engine.styles();
    assert.equal(style?.name, PACK);
    assert.equal(style?.exemplars.length, 8);
    assert.equal(style?.demo, true);
  });

  it('turns a photo into an image of the requested format, then serves it from the cache', async () => {
    const first = await engine.stylize(request({ format: 'png' }));
    const meta = await sharp(first.image.bytes).metadata();
    assert.equal(meta.format, 'png');
    assert.deepEqual([meta.width, meta.height], [64, 64]);
    assert.equal(first.cacheHit, false);
    assert.equal(first.face?.faceCount, 1);
    assert.equal(first.face?.landmarks.length, 68);
    assert.deepEqual(first.style.exemplar, { id: 1, name: 'demo-01.jpg' });
    assert.ok(first.timings.encode! > 0);

    const second = await engine.stylize(request({ format: 'png' }));
    assert.equal(second.cacheHit, true, 'the second request must skip the encoder');
    assert.equal(second.timings.encode, undefined);
    assert.deepEqual(second.image.bytes, first.image.bytes, 'same request, same bytes');

    const webp = await engine.stylize(request({ format: 'webp' }));
    assert.equal((await sharp(webp.image.bytes).metadata()).format, 'webp');
  });

  it('re-renders from the cached photo key without the photo', async () => {
    const first = await engine.stylize(request());
    const again = await engine.stylize(
      request({ face: { kind: 'cached-photo', key: first.photoKey! } }),
    );
    assert.equal(again.cacheHit, true);
    assert.deepEqual(again.image.bytes, first.image.bytes);
  });

  it('samples styles: same seed, same image; a re-roll differs; structure-only keeps the colour seed', async () => {
    const sampled = (structureSeed: string, colorSeed: string) =>
      engine.stylize(request({ style: { kind: 'sampled', pack: PACK, structureSeed, colorSeed } }));
    const a = await sampled('1', '1');
    const b = await sampled('1', '1');
    const c = await sampled('2', '2');
    const d = await sampled('2', '1');
    assert.deepEqual(a.image.bytes, b.image.bytes);
    assert.notDeepEqual(a.image.bytes, c.image.bytes);
    assert.notDeepEqual(a.image.bytes, d.image.bytes);
    assert.deepEqual(d.style, {
      pack: PACK,
      kind: 'sampled',
      structureSeed: '2',
      colorSeed: '1',
      reference: `${PACK}:random:2:1`,
    });
  });

  it('makes a random portrait with no photo, deterministic per seed', async () => {
    const a = await engine.stylize(request({ face: { kind: 'random', seed: 'x' } }));
    const b = await engine.stylize(request({ face: { kind: 'random', seed: 'x' } }));
    assert.equal(a.face, undefined);
    assert.deepEqual(a.image.bytes, b.image.bytes);
  });

  it('applies weights, preserve-colour and fresh noise', async () => {
    const base = await engine.stylize(request());
    const weighted = await engine.stylize(request({ structure: 1, color: 0.2 }));
    assert.deepEqual(weighted.weights, [1, 1, 1, 1, 1, 1, 1, 0.2, 0.2, 0.2]);
    assert.notDeepEqual(weighted.image.bytes, base.image.bytes);
    const preserved = await engine.stylize(request({ preserveColor: true }));
    assert.notDeepEqual(preserved.image.bytes, base.image.bytes);
    const noisy = await engine.stylize(request({ noiseSeed: '7' }));
    assert.notDeepEqual(noisy.image.bytes, base.image.bytes);
    assert.deepEqual(
      (await engine.stylize(request({ noiseSeed: '7' }))).image.bytes,
      noisy.image.bytes,
    );
    await assertUserError(engine.stylize(request({ weights: [1, 2] })), 'bad-option');
    await assertUserError(engine.stylize(request({ size: 48 })), 'bad-option');
  });

  it('uses a new exemplar image as the style, encoded once', async () => {
    const style = { kind: 'image' as const, pack: PACK, image: photo('i5R8hbZFDdc.jpg') };
    const first = await engine.stylize(request({ style }));
    assert.equal(first.style.kind, 'image');
    const again = await engine.stylize(
      request({ style: { kind: 'cached-image', pack: PACK, key: first.style.imageKey! } }),
    );
    assert.deepEqual(again.image.bytes, first.image.bytes);
  });

  it('encodes with the identity (W+) encoder on request, cached apart from the style encoder', async () => {
    const z = await engine.stylize(request());
    assert.equal(z.encoder, 'style');
    const w = await engine.stylize(request({ encoder: 'identity' }));
    assert.equal(w.encoder, 'identity');
    assert.equal(w.cacheHit, false, 'the z+ code cached for this photo is not its W+ code');
    assert.notDeepEqual(w.image.bytes, z.image.bytes);
    const again = await engine.stylize(
      request({ encoder: 'identity', face: { kind: 'cached-photo', key: w.photoKey! } }),
    );
    assert.equal(again.cacheHit, true);
    assert.deepEqual(again.image.bytes, w.image.bytes);
    const preserved = await engine.stylize(request({ encoder: 'identity', preserveColor: true }));
    assert.notDeepEqual(preserved.image.bytes, w.image.bytes);
    // A random face has no photo to encode: the option does not apply.
    const random = await engine.stylize(
      request({ encoder: 'identity', face: { kind: 'random', seed: 'x' } }),
    );
    assert.equal(random.encoder, undefined);
  });

  it('finds faces the reference misses: tilted and small photos', async () => {
    for (const name of ['astronaut_rotated.png', 'astronaut_small.png']) {
      const result = await engine.stylize(request({ face: { kind: 'photo', bytes: photo(name) } }));
      assert.equal(result.face?.faceCount, 1, name);
    }
  });

  it('rejects bad input with typed errors and keeps serving', async () => {
    const bad = async (bytes: Uint8Array, code: UserErrorCode) => {
      await assertUserError(engine.stylize(request({ face: { kind: 'photo', bytes } })), code);
    };
    const jpeg = await sharp(astronaut).jpeg().toBuffer();
    const gif = await sharp({ create: { width: 80, height: 160, channels: 3, background: '#888' } })
      .gif()
      .toBuffer();
    const animated = await sharp(gif, { pages: -1 }).toBuffer();
    await bad(new Uint8Array(0), 'empty-file');
    await bad(Buffer.from('<!DOCTYPE html><html><body>not a photo</body></html>'), 'not-an-image');
    await bad(Buffer.from('hello, this is a text file\n'.repeat(10)), 'not-an-image');
    await bad(jpeg.subarray(0, Math.floor(jpeg.length / 2)), 'corrupt-image');
    await bad(pngHeaderOnly(60000, 60000), 'too-many-pixels');
    await bad(
      await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
        .png()
        .toBuffer(),
      'image-too-small',
    );
    await bad(animated, 'no-face');
    await assert.rejects(
      engine.stylize(request({ face: { kind: 'photo', bytes: photo('no_face_cat.png') } })),
      NoFaceError,
    );
    await assertUserError(
      engine.stylize(request({ style: { kind: 'exemplar', pack: 'nope' } })),
      'unknown-style',
    );
    await assertUserError(
      engine.stylize(request({ style: { kind: 'exemplar', pack: PACK, exemplar: 99 } })),
      'unknown-exemplar',
    );
    await assertUserError(
      engine.stylize(request({ face: { kind: 'cached-photo', key: 'f'.repeat(64) } })),
      'photo-expired',
    );
    const ok = await engine.stylize(request());
    assert.ok(ok.image.bytes.length > 0, 'the engine still serves');
  });

  it('forget(user) drops that user’s cached photos only', async () => {
    const bobPhoto = photo('pexels-andrea-piacquadio-733872.jpg');
    await engine.stylize(request({ userId: 'bob', face: { kind: 'photo', bytes: bobPhoto } }));
    await engine.stylize(
      request({ userId: 'carol', face: { kind: 'photo', bytes: photo('i5R8hbZFDdc.jpg') } }),
    );
    assert.ok((await engine.forget('bob')) > 0);
    const again = await engine.stylize(
      request({ userId: 'bob', face: { kind: 'photo', bytes: bobPhoto } }),
    );
    assert.equal(again.cacheHit, false);
    // A photo first sent by another user is forgotten for this one too.
    await engine.stylize(request({ userId: 'dave' }));
    assert.ok((await engine.forget('dave')) > 0);
    assert.equal((await engine.stylize(request({ userId: 'dave' }))).cacheHit, false);
    const carol = await engine.stylize(
      request({ userId: 'carol', face: { kind: 'photo', bytes: photo('i5R8hbZFDdc.jpg') } }),
    );
    assert.equal(carol.cacheHit, true);
  });

  it('is fair: user A’s five queued jobs do not hold back user B', async () => {
    const order: string[] = [];
    const submit = (userId: string, tag: string) => {
      const job = engine.submit(request({ userId, face: { kind: 'random', seed: tag } }));
      return job.result.then(() => order.push(tag));
    };
    const jobs = [1, 2, 3, 4, 5].map((i) => submit('A', `A${i}`));
    jobs.push(submit('B', 'B1'));
    await Promise.all(jobs);
    assert.ok(
      order.indexOf('B1') <= 1,
      `B ran at position ${order.indexOf('B1')}: ${order.join(' ')}`,
    );
  });

  it('sends a preview from the inference host while generating, before the result', async () => {
    const events: string[] = [];
    const previews: Buffer[] = [];
    const job = engine.submit(request({ userId: 'p', format: 'png' }));
    job.on('stage', ({ stage }) => events.push(stage));
    job.on('preview', ({ image }) => {
      events.push('preview');
      previews.push(Buffer.from(image.bytes));
      assert.deepEqual([image.format, image.width, image.height], ['jpeg', 16, 16]);
    });
    job.on('done', () => events.push('done'));
    await job.result;
    assert.deepEqual(events.slice(-3), ['generating', 'preview', 'done']);
    // A real JPEG at the pack's preview side (a quarter of 64), whatever the result's format.
    const meta = await sharp(previews[0]!).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 16, 16]);
    // The host tells its peak memory with its answers.
    assert.ok((engine.health().peakRssBytes ?? 0) > 0, JSON.stringify(engine.health()));
  });

  it('sends no preview for a grid (it would show one tile of it)', async () => {
    let previews = 0;
    const grid = engine.submit(
      request({ userId: 'p', variants: [{ kind: 'exemplar', pack: PACK, exemplar: 2 }] }),
    );
    grid.on('preview', () => previews++);
    const result = await grid.result;
    assert.equal(result.tiles?.length, 2);
    assert.equal(previews, 0);
  });

  it('reports queue positions and stages, and cancels queued and running jobs', async () => {
    const events: string[] = [];
    const running = engine.submit(
      request({ userId: 'd', face: { kind: 'photo', bytes: photo('yRpe13BHdKw.jpg') } }),
    );
    const queued = engine.submit(request({ userId: 'e' }));
    running.on('stage', ({ stage }) => events.push(stage));
    queued.on('queued', ({ position }) => events.push(`queued ${position}`));
    await new Promise((resolve) => queued.once('queued', resolve));
    assert.ok(queued.cancel());
    await assertUserError(queued.result, 'cancelled');
    await new Promise((resolve) => running.once('stage', resolve));
    assert.ok(running.cancel());
    await assertUserError(running.result, 'cancelled');
    assert.ok(events.includes('queued 1'), events.join(', '));
    assert.ok(events.includes('aligning'), events.join(', '));
    const ok: StylizeResult = await engine.stylize(request());
    assert.ok(ok.image.bytes.length > 0);
  });
});

describe('engine timeouts', () => {
  it('stops a job that runs too long and serves the next', async () => {
    const models = tempDir('timeout');
    await installDemoPacks(models, 64);
    const engine = await Engine.create({ modelsDir: models, cacheUrl: 'memory', jobTimeoutMs: 1 });
    try {
      await assertUserError(
        engine.stylize({
          userId: 'u',
          face: { kind: 'photo', bytes: astronaut },
          style: { kind: 'exemplar', pack: PACK },
        }),
        'timeout',
      );
    } finally {
      await engine.close();
    }
  });
});

describe('engine.preview off', () => {
  it('runs the whole generator: no first look, the same picture', async () => {
    const models = tempDir('no-preview');
    await installDemoPacks(models, 64);
    const ask = (engine: Engine) => {
      let previews = 0;
      const job = engine.submit({
        userId: 'u',
        face: { kind: 'photo', bytes: astronaut },
        style: { kind: 'exemplar', pack: PACK },
        format: 'png',
      });
      job.on('preview', () => previews++);
      return job.result.then((result) => ({ result, previews }));
    };
    const whole = await Engine.create({ modelsDir: models, cacheUrl: 'memory', preview: false });
    const halves = await Engine.create({ modelsDir: models, cacheUrl: 'memory', warmup: false });
    try {
      const [a, b] = [await ask(whole), await ask(halves)];
      assert.equal(a.previews, 0);
      assert.equal(b.previews, 1);
      // The halves are the whole graph cut in two: the same pixels, give or take float rounding.
      const pa = await sharp(a.result.image.bytes).raw().toBuffer();
      const pb = await sharp(b.result.image.bytes).raw().toBuffer();
      assert.equal(pa.length, pb.length);
      let worst = 0;
      for (let i = 0; i < pa.length; i++) worst = Math.max(worst, Math.abs(pa[i]! - pb[i]!));
      assert.ok(worst <= 1, `largest pixel difference ${worst}`);
    } finally {
      await whole.close();
      await halves.close();
    }
  });
});

describe('engine default encoder', () => {
  it('applies engine.encoder to requests that name none; without a W+ pack says so', async () => {
    const models = tempDir('identity');
    await installDemoPacks(models, 64, { wPlus: false });
    const engine = await Engine.create({
      modelsDir: models,
      cacheUrl: 'memory',
      warmup: false,
      encoder: 'identity',
    });
    const ask = (extra: Partial<StylizeRequest> = {}) =>
      engine.stylize({
        userId: 'u',
        face: { kind: 'photo', bytes: astronaut },
        style: { kind: 'exemplar', pack: PACK },
        ...extra,
      });
    try {
      await assertUserError(engine.preload(PACK), 'no-identity-encoder');
      await assertUserError(ask(), 'no-identity-encoder');
      assert.equal((await ask({ encoder: 'style' })).encoder, 'style');
      // Installing the W+ pack later is enough: styles name their z+ encoder only.
      await installDemoPacks(models, 64, { wPlus: true });
      assert.equal((await ask()).encoder, 'identity');
    } finally {
      await engine.close();
    }
  });
});
