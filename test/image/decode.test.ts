import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { UserError, type UserErrorCode } from '../../src/engine/errors.ts';
import { decodeImage, sniffImageFormat } from '../../src/engine/image/decode.ts';
import { pngHeaderOnly } from '../helpers/images.ts';

/** A `width`×`height` image whose left half is `left` and right half `right`. */
function halves(width: number, height: number, left: number[], right: number[]): Buffer {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(x < width / 2 ? left : right, (y * width + x) * 3);
  }
  return data;
}

function raw(width: number, height: number, data: Buffer, pageHeight?: number) {
  return sharp(data, { raw: { width, height, channels: 3, pageHeight } });
}

function pixel(img: { data: Uint8Array; width: number }, x: number, y: number): number[] {
  const o = (y * img.width + x) * 3;
  return [...img.data.subarray(o, o + 3)];
}

function assertClose(actual: number[], expected: number[], tolerance: number): void {
  actual.forEach((v, i) =>
    assert.ok(Math.abs(v - expected[i]!) <= tolerance, `${actual} vs ${expected}`),
  );
}

async function assertUserError(bytes: Uint8Array, code: UserErrorCode): Promise<void> {
  await assert.rejects(decodeImage(bytes), (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

const RED = [220, 30, 40];
const BLUE = [30, 40, 220];

describe('decodeImage rejects bad input with typed errors', () => {
  test('empty file', () => assertUserError(new Uint8Array(0), 'empty-file'));

  test('an HTML page, whatever it is called', () =>
    assertUserError(
      Buffer.from('<!DOCTYPE html><html><body>photo.jpg</body></html>'),
      'not-an-image',
    ));

  test('a text file', () =>
    assertUserError(Buffer.from('just some notes\n'.repeat(40)), 'not-an-image'));

  test('a file over the byte limit', async () => {
    const png = await raw(100, 100, halves(100, 100, RED, BLUE))
      .png()
      .toBuffer();
    await assert.rejects(decodeImage(png, { maxBytes: 100 }), { code: 'file-too-large' });
  });

  test('a truncated JPEG', async () => {
    const jpeg = await raw(256, 256, halves(256, 256, RED, BLUE))
      .jpeg()
      .toBuffer();
    await assertUserError(jpeg.subarray(0, jpeg.length / 2), 'corrupt-image');
  });

  test('a JPEG signature followed by garbage', () =>
    assertUserError(
      Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(500, 7)]),
      'corrupt-image',
    ));

  test('a PNG header claiming 60000×60000 is refused from the header alone', async () => {
    // The file holds no pixel data: decoding it would fail as corrupt-image, so too-many-pixels
    // (with the header's dimensions) shows nothing was decoded. `npm run bench:micro` prints
    // the memory it costs.
    await assert.rejects(decodeImage(pngHeaderOnly(60000, 60000)), {
      code: 'too-many-pixels',
      message: /60000×60000/,
    });
  });

  test('a 1×1 image', async () =>
    assertUserError(await raw(1, 1, Buffer.from(RED)).png().toBuffer(), 'image-too-small'));

  test('the pixel limit is configurable', async () => {
    const png = await raw(100, 100, halves(100, 100, RED, BLUE))
      .png()
      .toBuffer();
    await assert.rejects(decodeImage(png, { maxPixels: 5000 }), { code: 'too-many-pixels' });
  });

  test('after each failure the next photo decodes', async () => {
    const good = await raw(80, 64, halves(80, 64, RED, BLUE))
      .png()
      .toBuffer();
    for (const bad of [new Uint8Array(0), Buffer.from('<html>'), pngHeaderOnly(60000, 60000)]) {
      await assert.rejects(decodeImage(bad), UserError);
      const img = await decodeImage(good);
      assert.deepEqual([img.width, img.height], [80, 64]);
    }
  });
});

describe('decodeImage converts what it accepts to upright 8-bit sRGB', () => {
  test('PNG, JPEG, WebP, AVIF: sizes, format and colours', async () => {
    const base = halves(96, 72, RED, BLUE);
    const cases = [
      ['png', await raw(96, 72, base).png().toBuffer(), 0],
      ['jpeg', await raw(96, 72, base).jpeg({ quality: 95 }).toBuffer(), 12],
      ['webp', await raw(96, 72, base).webp({ quality: 95 }).toBuffer(), 12],
      ['avif', await raw(96, 72, base).avif({ quality: 90 }).toBuffer(), 16],
    ] as const;
    for (const [format, bytes, tolerance] of cases) {
      const img = await decodeImage(bytes);
      assert.equal(img.format, format);
      assert.equal(sniffImageFormat(bytes), format);
      assert.deepEqual([img.width, img.height, img.data.length], [96, 72, 96 * 72 * 3]);
      assertClose(pixel(img, 10, 30), RED, tolerance);
      assertClose(pixel(img, 80, 30), BLUE, tolerance);
    }
  });

  test('an animated GIF gives its first frame', async () => {
    const frames = Buffer.concat([halves(80, 80, RED, RED), halves(80, 80, BLUE, BLUE)]);
    const gif = await raw(80, 160, frames, 80).gif().toBuffer();
    assert.equal((await sharp(gif).metadata()).pages, 2);
    const img = await decodeImage(gif);
    assert.equal(img.format, 'gif');
    assert.deepEqual([img.width, img.height], [80, 80]);
    assertClose(pixel(img, 40, 70), RED, 24);
  });

  test('EXIF orientation is applied', async () => {
    // Orientation 6: the stored image is shown turned 90° clockwise, so left becomes top.
    const jpeg = await raw(100, 80, halves(100, 80, RED, BLUE))
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const img = await decodeImage(jpeg);
    assert.deepEqual([img.width, img.height], [80, 100]);
    assertClose(pixel(img, 40, 10), RED, 12);
    assertClose(pixel(img, 40, 90), BLUE, 12);
  });

  test('CMYK JPEG', async () => {
    // Muted colours: saturated RGB primaries lie outside the CMYK gamut and come back duller.
    const [warm, cool] = [
      [200, 120, 80],
      [90, 130, 170],
    ] as [number[], number[]];
    const jpeg = await raw(96, 72, halves(96, 72, warm, cool))
      .toColourspace('cmyk')
      .jpeg({ quality: 95 })
      .toBuffer();
    assert.equal((await sharp(jpeg).metadata()).space, 'cmyk');
    const img = await decodeImage(jpeg);
    assert.equal(img.data.length, 96 * 72 * 3);
    assertClose(pixel(img, 10, 30), warm, 24);
    assertClose(pixel(img, 80, 30), cool, 24);
  });

  test('16-bit PNG', async () => {
    const png = await raw(96, 72, halves(96, 72, RED, BLUE))
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    assert.equal((await sharp(png).metadata()).depth, 'ushort');
    const img = await decodeImage(png);
    assertClose(pixel(img, 10, 30), RED, 1);
    assertClose(pixel(img, 80, 30), BLUE, 1);
  });

  test('RGBA PNG is flattened on white', async () => {
    const rgba = Buffer.alloc(96 * 72 * 4);
    for (let i = 0; i < 96 * 72; i++) rgba.set([0, 0, 0, i % 96 < 48 ? 0 : 255], i * 4);
    const png = await sharp(rgba, { raw: { width: 96, height: 72, channels: 4 } })
      .png()
      .toBuffer();
    const img = await decodeImage(png);
    assert.deepEqual(pixel(img, 10, 30), [255, 255, 255]);
    assert.deepEqual(pixel(img, 80, 30), [0, 0, 0]);
  });

  test('greyscale gives three equal channels', async () => {
    const png = await raw(96, 72, halves(96, 72, RED, BLUE))
      .greyscale()
      .png()
      .toBuffer();
    const [r, g, b] = pixel(await decodeImage(png), 10, 30);
    assert.ok(r === g && g === b);
  });
});
