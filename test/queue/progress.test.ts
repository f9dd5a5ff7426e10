/**
 * Job progress read back from Redis (anything may have written it): a stage, or a preview image
 * with its bytes in base64; anything else, an oversized preview included, is ignored.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeProgress, encodePreview } from '../../src/queue/protocol.ts';

test('a preview survives the trip through job progress; junk and oversized ones are ignored', () => {
  const image = {
    bytes: Uint8Array.of(255, 216, 255, 0),
    format: 'jpeg' as const,
    width: 16,
    height: 16,
  };
  const back = decodeProgress(JSON.parse(JSON.stringify(encodePreview(image))));
  assert.deepEqual(back, { preview: image });
  assert.deepEqual(decodeProgress({ stage: 'encoding' }), { stage: 'encoding' });
  const wire = { format: 'jpeg', width: 16, height: 16 };
  assert.equal(decodeProgress({ preview: { ...wire, bytes64: 'not base64!' } }), undefined);
  assert.equal(decodeProgress({ preview: { ...wire, width: -1, bytes64: 'AAAA' } }), undefined);
  const huge = 'A'.repeat(1024 * 1024 + 4);
  assert.equal(decodeProgress({ preview: { ...wire, bytes64: huge } }), undefined);
  assert.equal(decodeProgress({ stage: 'painting' }), undefined);
  assert.equal(decodeProgress(42), undefined);
});
