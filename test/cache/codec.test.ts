import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  CacheFormatError,
  decodeContent,
  decodeKeys,
  decodeStyle,
  encodeContent,
  encodeKeys,
  encodeStyle,
  fromText,
  toText,
} from '../../src/engine/cache/codec.ts';
import type { ContentEntry } from '../../src/engine/cache/latents.ts';

const entry: ContentEntry = {
  code: Float32Array.from([1.5, -0, NaN, 3e-45]),
  nLatent: 2,
  styleDim: 2,
  alignment: {
    quad: [
      [0.1, 0.2],
      [3, 4],
    ],
    box: [1, 2, 3, 4],
    landmarks: [[5, 6]],
    faceCount: 2,
    qsize: 0.30000000000000004,
  },
};

describe('cache codec', () => {
  it('lays a content entry out as header + f64 alignment + raw f32 code', () => {
    const bytes = encodeContent(entry);
    assert.deepEqual([...bytes.subarray(0, 6)], [0x50, 0x53, 0x4c, 0x43, 1, 1]);
    // The code is the last 16 bytes, verbatim.
    assert.deepEqual(bytes.subarray(-16), new Uint8Array(entry.code.buffer));
    assert.deepEqual(decodeContent(bytes), entry);
  });

  it('reads a value stored at an odd offset (a pooled Buffer)', () => {
    const bytes = encodeContent(entry);
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    assert.deepEqual(decodeContent(padded.subarray(3)), entry);
  });

  it('rejects truncated, foreign, trailing and mismatched bytes with CacheFormatError', () => {
    const bytes = encodeContent(entry);
    const bad = [
      bytes.subarray(0, bytes.length - 1),
      new TextEncoder().encode('{"json":true}'),
      Uint8Array.from([...bytes, 0]),
      encodeStyle({ code: entry.code, meta: {} }),
    ];
    for (const b of bad) assert.throws(() => decodeContent(b), CacheFormatError);
    assert.throws(() => decodeStyle(bytes), /kind 1, not 2/);
  });

  it('refuses counts the bytes cannot hold before allocating anything (a 36-byte bomb)', () => {
    // Header, nLatent 0, styleDim 0, faceCount 0, qsize 0, then a quad of 0xFFFFFFFF × 0 rows:
    // it passed the byte-length check and allocated an array of 2^32 rows.
    const bomb = new Uint8Array(36);
    bomb.set([0x50, 0x53, 0x4c, 0x43, 1, 1, 0, 0]);
    new DataView(bomb.buffer).setUint32(28, 0xffffffff, true);
    assert.throws(() => decodeContent(bomb), CacheFormatError);
    const keys = encodeKeys([]);
    new DataView(keys.buffer).setUint32(8, 0xffffffff, true);
    assert.throws(() => decodeKeys(keys), /cannot fit/);
    assert.throws(() => fromText(null as unknown as string), CacheFormatError);
  });

  it('names the field when a matrix is ragged or the code has the wrong length', () => {
    const ragged = { ...entry, alignment: { ...entry.alignment, quad: [[1, 2], [3]] } };
    assert.throws(() => encodeContent(ragged), /alignment\.quad: row 1 has 1 values, not 2/);
    assert.throws(() => encodeContent({ ...entry, styleDim: 3 }), /4 values, expected/);
  });

  it('round-trips style meta and key lists', () => {
    const meta = { kind: 'sampled', seed: 7, shared: false, pack: 'cartoon', none: null };
    assert.deepEqual(decodeStyle(encodeStyle({ code: entry.code, meta })), {
      code: entry.code,
      meta,
    });
    const keys = [
      { key: 'content:ab:c', expires: 1.5e12 },
      { key: 'style:ü/✓', expires: 0 },
    ];
    assert.deepEqual(decodeKeys(encodeKeys(keys)), keys);
  });

  it('wraps bytes and expiry as base64 text for string-only stores', () => {
    const value = encodeContent(entry);
    const text = toText({ value, expires: 1234567890123 });
    assert.match(text, /^[A-Za-z0-9+/]+=*$/);
    const back = fromText(text);
    assert.deepEqual(new Uint8Array(back.value), value);
    assert.equal(back.expires, 1234567890123);
    assert.equal(fromText(toText({ value })).expires, undefined);
    assert.throws(() => toText({ value: [1, 2, 3] }), /bytes/);
  });
});
