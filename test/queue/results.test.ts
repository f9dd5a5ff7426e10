/**
 * Queue mode returns what the in-process engine returns (issue 13's results: a fusion's style
 * and its reference, a grid's tiles, every face of a whole photo): the same requests go to a
 * worker process through Redis and to an Engine in this process, over the same demo pack, and
 * the results must agree field by field. Only what two runs cannot share is left out: the
 * image's bytes (another process's floats) and the wall times.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Engine, type StylizeRequest, type StylizeResult } from '../../src/engine/index.ts';
import type { RemoteEngine } from '../../src/queue/remote-engine.ts';
import { FIXTURES } from '../helpers/packs.ts';
import { loopback, type Loopback } from './harness.ts';

const PACK = 'demo-64';
const photo = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(join(FIXTURES, 'alignment', name)));
const astronaut = photo('astronaut.png');
const twoFaces = photo('two_faces.png');

/** The result without what differs between two runs of one request. */
function comparable(result: StylizeResult): unknown {
  const { image, timings, ...rest } = result;
  assert.ok(image.bytes.length > 100, 'an image');
  assert.ok((timings.generate ?? 0) > 0, 'timings came along');
  return { ...rest, image: { format: image.format, width: image.width, height: image.height } };
}

describe('queue mode returns what the engine returns', { timeout: 300_000 }, () => {
  let lb: Loopback;
  let remote: RemoteEngine;
  let local: Engine;
  before(async () => {
    lb = await loopback();
    await lb.startWorker();
    remote = await lb.engine();
    // One ONNX thread, like the worker's, so the two share the 2 cores calmly.
    local = await Engine.create({
      modelsDir: lb.modelsDir,
      cacheUrl: 'memory',
      threads: 1,
      warmup: false,
    });
  });
  after(async () => {
    await remote.forget('test:results');
    await local.close();
    await lb.close();
  });

  /** Runs `request` on both, one after the other (so the caches see the same history). */
  async function both(request: StylizeRequest): Promise<[StylizeResult, StylizeResult]> {
    const viaQueue = await remote.stylize(request);
    const inProcess = await local.stylize(request);
    assert.deepEqual(comparable(viaQueue), comparable(inProcess));
    return [viaQueue, inProcess];
  }

  const base = {
    userId: 'test:results',
    face: { kind: 'photo', bytes: astronaut },
    format: 'png',
  } as const;

  it('a fusion: its two styles, the ratio and the reference, with the W+ encoder', async () => {
    const [result] = await both({
      ...base,
      style: {
        kind: 'blend',
        pack: PACK,
        a: { kind: 'exemplar', exemplar: 1 },
        b: { kind: 'sampled', structureSeed: 's', colorSeed: 'c' },
        ratio: 0.3,
      },
      encoder: 'identity',
      preset: 'gentle',
      noiseSeed: 'n',
    });
    assert.equal(result.style.kind, 'blend');
    assert.equal(result.style.reference, `${PACK}:1+random:s:c@0.3`);
    assert.equal(result.style.blend?.b.structureSeed, 's');
    assert.equal(result.encoder, 'identity');
  });

  it('a grid: every tile’s style, an exemplar image among them', async () => {
    const [result] = await both({
      ...base,
      style: { kind: 'exemplar', pack: PACK, exemplar: 2 },
      variants: [
        { kind: 'sampled', pack: PACK, structureSeed: 'x', colorSeed: 'y' },
        { kind: 'image', pack: PACK, image: photo('i5R8hbZFDdc.jpg') },
        {
          kind: 'blend',
          pack: PACK,
          a: { kind: 'exemplar', exemplar: 0 },
          b: { kind: 'exemplar', exemplar: 3 },
        },
      ],
      columns: 2,
    });
    assert.deepEqual(
      result.tiles?.map((t) => t.kind),
      ['exemplar', 'sampled', 'image', 'blend'],
    );
    assert.ok(result.tiles?.every((t) => t.reference.startsWith(`${PACK}:`)));
  });

  it('a whole photo, all faces: which were stylized and how many were not', async () => {
    const [result] = await both({
      ...base,
      face: { kind: 'photo', bytes: twoFaces },
      style: { kind: 'exemplar', pack: PACK, exemplar: 4 },
      faces: 'all',
      truncation: 0.5,
    });
    assert.equal(result.faces?.length, 2);
    assert.equal(result.skippedFaces, 0);
    assert.ok(result.image.width > 64, 'the whole photo');
  });

  it('a reconstruction of a random face', async () => {
    const [result] = await both({
      userId: 'test:results',
      face: { kind: 'random', seed: 'r' },
      style: { kind: 'exemplar', pack: PACK },
      reconstruct: true,
      size: 64,
      format: 'webp',
      quality: 50,
    });
    assert.ok(result.weights.every((w) => w === 0));
    assert.equal(result.image.format, 'webp');
  });
});
