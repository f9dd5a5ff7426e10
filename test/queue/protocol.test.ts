/**
 * The queue carries whatever the in-process engine takes and returns. The fixtures below fill
 * every field of the engine's types (`Required<…>`), so a field added to StylizeRequest,
 * StylizeResult, StyleUsed, FaceInfo or Timings stops `tsc` here until it is filled in, and the
 * round trips then fail until the protocol carries it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type EncodedImage,
  type StyleUsed,
  type StylizeRequest,
  type StylizeResult,
  type Timings,
  UserError,
} from '../../src/engine/index.ts';
import {
  decodeRequest,
  decodeResult,
  encodeRequest,
  encodeResult,
} from '../../src/queue/protocol.ts';

type FaceInfo = NonNullable<StylizeResult['face']>;

/** As BullMQ stores job data and return values. */
const throughRedis = <T>(value: T): unknown => JSON.parse(JSON.stringify(value));

const bytes = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) % 256);

const request: Required<StylizeRequest> = {
  userId: 'test:protocol',
  requestId: 'req-protocol-1',
  face: { kind: 'photo', bytes: bytes(300, 1) },
  style: {
    kind: 'blend',
    pack: 'demo-64',
    a: { kind: 'exemplar', exemplar: 'Cartoons_00038_07' },
    b: { kind: 'sampled', structureSeed: 's', colorSeed: 'c' },
    ratio: 0.25,
  },
  structure: 0.5,
  color: 0.75,
  weights: [0, 0.5, 1],
  preserveColor: true,
  encoder: 'identity',
  truncation: 0.7,
  preset: 'structure-only',
  reconstruct: true,
  // The engine refuses a grid pasted into the photo: `photoRequest` below has those two.
  output: 'crop',
  faces: 'largest',
  variants: [
    { kind: 'image', pack: 'demo-64', image: bytes(200, 2) },
    { kind: 'cached-image', pack: 'demo-64', key: 'k'.repeat(64) },
    { kind: 'exemplar', pack: 'demo-64', exemplar: 3 },
    { kind: 'sampled', pack: 'demo-64', structureSeed: 'a', colorSeed: 'b' },
    {
      kind: 'blend',
      pack: 'demo-64',
      a: { kind: 'cached-image', key: 'x' },
      b: { kind: 'exemplar' },
      ratio: 1,
    },
  ],
  columns: 3,
  size: 256,
  format: 'webp',
  quality: 80,
  noiseSeed: 'n',
  priority: -2,
};

const photoRequest: StylizeRequest = { ...request, output: 'photo', faces: 'all' };
delete photoRequest.variants;
delete photoRequest.columns;

const face: Required<FaceInfo> = {
  faceCount: 2,
  box: [10, 20, 30, 40],
  landmarks: [
    [1.5, 2.5],
    [3, 4],
  ],
  quad: [
    [0, 0],
    [0, 64],
    [64, 64],
    [64, 0],
  ],
  qsize: 64.5,
};

/** One side of a blend, or a tile: every field a single style has. */
const part: Required<Omit<StyleUsed, 'blend'>> = {
  pack: 'demo-64',
  kind: 'exemplar',
  exemplar: { id: 3, name: 'Cartoons_00038_07.jpg' },
  structureSeed: 's',
  colorSeed: 'c',
  imageKey: 'i'.repeat(64),
  reference: 'demo-64:3',
};

const style: Required<StyleUsed> = {
  ...part,
  kind: 'blend',
  blend: { a: part, b: { ...part, kind: 'sampled', reference: 'demo-64:random:s:c' }, ratio: 0.3 },
  reference: 'demo-64:3+random:s:c@0.3',
};

const timings: Required<Timings> = {
  load: 1,
  decode: 2,
  detect: 3,
  align: 4,
  encode: 5,
  sample: 6,
  map: 7,
  generate: 8,
  paste: 9,
  output: 10,
};

const image: Required<EncodedImage> = {
  bytes: bytes(1000, 3),
  format: 'png',
  width: 640,
  height: 480,
};

const result: Required<StylizeResult> = {
  image,
  photoKey: 'p'.repeat(64),
  face,
  style,
  weights: [0.1, 0.2, 0.3],
  truncation: 0.7,
  preserveColor: true,
  encoder: 'identity',
  noiseSeed: 'n',
  cacheHit: true,
  batchSize: 4,
  tiles: [style, part, { ...part, kind: 'image', reference: 'demo-64:image:iii' }],
  faces: [face, { ...face, faceCount: 2, qsize: 32 }],
  skippedFaces: 1,
  timings,
};

describe('queue protocol', () => {
  it('carries every request field to the worker, bytes included', () => {
    for (const sent of [request, photoRequest]) {
      const decoded = decodeRequest(throughRedis(encodeRequest(sent, 1 << 20)));
      assert.deepStrictEqual(decoded, sent);
    }
  });

  it('carries a minimal request as the engine reads it (defaults applied)', () => {
    const minimal: StylizeRequest = {
      userId: 'u',
      face: { kind: 'random', seed: 'r' },
      style: { kind: 'exemplar', pack: 'demo-64' },
    };
    const decoded = decodeRequest(throughRedis(encodeRequest(minimal, 1 << 20)));
    assert.deepStrictEqual(decoded, {
      ...minimal,
      preserveColor: false,
      reconstruct: false,
      output: 'crop',
      faces: 'largest',
      format: 'jpeg',
      quality: 90,
      priority: 0,
    });
  });

  it('carries every result field back to the bot', () => {
    const decoded = decodeResult(throughRedis(encodeResult(result)));
    assert.deepStrictEqual(decoded, result);
  });

  it('refuses a result with a field out of bounds, as an internal error', () => {
    const wire = throughRedis(encodeResult(result)) as Record<string, unknown>;
    const bad: Record<string, unknown>[] = [
      { style: { ...style, kind: 'painting' } },
      { style: { ...style, reference: 1 } },
      { style: { ...style, blend: { a: part, b: part, ratio: 2 } } },
      { tiles: Array.from({ length: 1025 }, () => part) },
      { faces: [{ ...face, quad: [[0, 0]] }] },
      { skippedFaces: -1 },
      { encoder: 'other' },
      { timings: { ...timings, generate: 'slow' } },
    ];
    for (const change of bad) {
      assert.throws(
        () => decodeResult({ ...wire, ...change }),
        (error: unknown) => error instanceof UserError && error.code === 'internal',
        JSON.stringify(change).slice(0, 80),
      );
    }
  });

  it('refuses job data whose bytes are not base64 or whose request is not one', () => {
    const wire = throughRedis(encodeRequest(request, 1 << 20)) as {
      v: 1;
      request: Record<string, unknown>;
    };
    const bad: Record<string, unknown>[] = [
      { variants: [{ kind: 'image', pack: 'demo-64', image64: '!!' }] },
      { variants: Array.from({ length: 8 }, () => ({ kind: 'exemplar', pack: 'demo-64' })) },
      {
        style: { kind: 'blend', pack: 'demo-64', a: { kind: 'painting' }, b: { kind: 'exemplar' } },
      },
      { userId: '' },
      { quality: 1000 },
      // Fields each fine, together not (the engine's own refusal).
      { face: { kind: 'random', seed: 'r' }, output: 'photo', variants: undefined },
    ];
    for (const change of bad) {
      assert.throws(
        () => decodeRequest({ v: 1, request: { ...wire.request, ...change } }),
        (error: unknown) => error instanceof UserError && error.code === 'internal',
        JSON.stringify(change).slice(0, 80),
      );
    }
  });
});
