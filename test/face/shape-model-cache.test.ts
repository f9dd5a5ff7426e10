/**
 * The parsed dlib model kept on disk: read back identical to a fresh parse, and never used when
 * it is stale, corrupt, truncated, out of range or in a folder others may write; then the source
 * is parsed again and the entry rewritten.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  decodeShapeModel,
  encodeShapeModel,
  entryPath,
  readShapeCache,
  ShapeCacheError,
  sourceKey,
  writeShapeCache,
} from '../../src/engine/face/shape-model-cache.ts';
import { DEFAULT_LANDMARK_MODEL, loadShapeModel } from '../../src/engine/face/landmarks.ts';
import { parseShapeModel, type ShapeModel } from '../../src/engine/face/shape-predictor.ts';
import { tempDir } from '../helpers/packs.ts';

/** Two landmarks, one cascade of one tree with one split. */
function tinyModel(): ShapeModel {
  return {
    initialShape: Float32Array.of(0.25, 0.25, 0.75, 0.75),
    cascades: [
      {
        numTrees: 1,
        numSplits: 1,
        splitIdx: Uint16Array.of(0, 1),
        thresholds: Float32Array.of(0.5),
        leaves: Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8),
        anchors: Uint16Array.of(0, 1),
        deltas: Float32Array.of(0.1, 0.2, 0.3, 0.4),
      },
    ],
  };
}

const KEY = '10:1700000000000:ab';

describe('shape model cache: entries', () => {
  it('decode what encode wrote', () => {
    const model = tinyModel();
    const decoded = decodeShapeModel(encodeShapeModel(model, KEY), KEY);
    assert.deepEqual(decoded, model);
  });

  it('refuse an entry made from another version of the source', () => {
    const bytes = encodeShapeModel(tinyModel(), KEY);
    assert.throws(() => decodeShapeModel(bytes, '10:1700000000001:ab'), ShapeCacheError);
  });

  it('refuse a flipped byte, a truncated entry, and something else entirely', () => {
    const bytes = encodeShapeModel(tinyModel(), KEY);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 3]! ^= 0x40;
    assert.throws(() => decodeShapeModel(flipped, KEY), ShapeCacheError);
    assert.throws(
      () => decodeShapeModel(bytes.subarray(0, bytes.length - 4), KEY),
      ShapeCacheError,
    );
    assert.throws(() => decodeShapeModel(bytes.subarray(0, 20), KEY), ShapeCacheError);
    assert.throws(() => decodeShapeModel(Buffer.from('not a cache entry'), KEY), ShapeCacheError);
  });

  it('refuse indices the predictor would follow out of range, even with a good checksum', () => {
    const badSplit = tinyModel();
    badSplit.cascades[0]!.splitIdx[1] = 2;
    assert.throws(
      () => decodeShapeModel(encodeShapeModel(badSplit, KEY), KEY),
      /a split names a feature/,
    );
    const badAnchor = tinyModel();
    badAnchor.cascades[0]!.anchors[0] = 2;
    assert.throws(
      () => decodeShapeModel(encodeShapeModel(badAnchor, KEY), KEY),
      /an anchor names a landmark/,
    );
  });

  it('a source key changes with the file', () => {
    const dir = tempDir('shape-key');
    const file = join(dir, 'model.dat');
    writeFileSync(file, 'first');
    return (async () => {
      const first = await sourceKey(file);
      utimesSync(file, new Date(), new Date(Date.UTC(2020, 0, 1)));
      assert.notEqual(await sourceKey(file), first, 'mtime');
      const touched = await sourceKey(file);
      writeFileSync(file, 'FIRST');
      utimesSync(file, new Date(), new Date(Date.UTC(2020, 0, 1)));
      assert.notEqual(await sourceKey(file), touched, 'same size and mtime, other bytes');
    })();
  });

  it('are not read from a folder others may write', async () => {
    const dir = join(tempDir('shape-open'), 'cache');
    await writeShapeCache(dir, '/x.dat', KEY, tinyModel());
    assert.deepEqual(await readShapeCache(dir, '/x.dat', KEY), tinyModel());
    chmodSync(dir, 0o777);
    await assert.rejects(readShapeCache(dir, '/x.dat', KEY), ShapeCacheError);
  });
});

describe("shape model cache: dlib's face model", { timeout: 120_000 }, () => {
  let parsed: Buffer;
  const dir = join(tempDir('shape-cache'), 'cache');
  before(async () => {
    const source = await sourceKey(DEFAULT_LANDMARK_MODEL);
    parsed = encodeShapeModel(parseShapeModel(readFileSync(DEFAULT_LANDMARK_MODEL)), source);
  });

  /** The model's bytes as the cache would store them: equal bytes, equal model. */
  const asStored = async (model: ShapeModel) =>
    encodeShapeModel(model, await sourceKey(DEFAULT_LANDMARK_MODEL));

  it('is written on the first load and read back identical to a fresh parse', async () => {
    const first = await loadShapeModel(DEFAULT_LANDMARK_MODEL, dir);
    assert.ok(first);
    assert.ok((await asStored(first)).equals(parsed));
    const source = await sourceKey(DEFAULT_LANDMARK_MODEL);
    const cached = await readShapeCache(dir, DEFAULT_LANDMARK_MODEL, source);
    assert.ok((await asStored(cached)).equals(parsed));
  });

  it('a corrupt entry is parsed past and rewritten', async () => {
    const entry = entryPath(dir, DEFAULT_LANDMARK_MODEL);
    const bytes = readFileSync(entry);
    bytes[bytes.length >> 1]! ^= 0x01;
    writeFileSync(entry, bytes);
    const source = await sourceKey(DEFAULT_LANDMARK_MODEL);
    await assert.rejects(readShapeCache(dir, DEFAULT_LANDMARK_MODEL, source), /checksum/);
    const model = await loadShapeModel(DEFAULT_LANDMARK_MODEL, dir);
    assert.ok(model && (await asStored(model)).equals(parsed));
    const again = await readShapeCache(dir, DEFAULT_LANDMARK_MODEL, source);
    assert.ok((await asStored(again)).equals(parsed), 'the entry was rewritten');
  });

  it('with no cache folder (`""`) parses and writes nothing', async () => {
    const model = await loadShapeModel(DEFAULT_LANDMARK_MODEL, '');
    assert.ok(model && (await asStored(model)).equals(parsed));
  });

  it('a folder that cannot be made is no failure', async () => {
    const file = join(tempDir('shape-blocked'), 'file');
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, 'not a folder');
    const model = await loadShapeModel(DEFAULT_LANDMARK_MODEL, join(file, 'cache'));
    assert.ok(model && (await asStored(model)).equals(parsed));
  });
});
