import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { ContactSheets } from '../../src/commands/contact-sheet.ts';
import { openRecords } from '../../src/commands/records.ts';
import type {
  EngineApi,
  StyleInfo,
  StylizeRequest,
  StylizeResult,
} from '../../src/engine/index.ts';

/** An engine with no packs on disk (as the bot in queue mode): it only answers stylize. */
function fakeEngine(): { engine: EngineApi; requests: StylizeRequest[] } {
  const requests: StylizeRequest[] = [];
  const stylize = async (request: StylizeRequest): Promise<StylizeResult> => {
    requests.push(request);
    const side = request.size ?? 64;
    const bytes = await sharp({
      create: { width: side, height: side, channels: 3, background: '#808080' },
    })
      .png()
      .toBuffer();
    // Contact sheets read only the image.
    return {
      image: { bytes, format: 'png', width: side, height: side },
    } as unknown as StylizeResult;
  };
  const unused = () => {
    throw new Error('not used by contact sheets');
  };
  const engine: EngineApi = {
    stylize,
    submit: unused,
    styles: () => [],
    forget: unused,
    preload: unused,
    close: async () => undefined,
  };
  return { engine, requests };
}

const style = (version: string): StyleInfo => ({
  name: 'remote-only',
  size: 64,
  exemplars: ['a.png', 'b.png'],
  defaults: { structure: 0.6, color: 1, truncation: 0.7 },
  hasSampler: false,
  demo: true,
  licence: 'test',
  version,
});

describe('contact sheets', () => {
  it('are keyed by the version the engine reports, with no pack files to read', async () => {
    const records = await openRecords({
      url: 'memory',
      ttlMs: 60_000,
      onError: (error) => assert.fail(String(error)),
    });
    try {
      const { engine, requests } = fakeEngine();
      const first = await new ContactSheets(engine, records).page(style('v1'), 0);
      assert.equal(requests.length, 2, 'one preview per exemplar');
      assert.deepEqual([first.first, first.last, first.pages], [0, 1, 1]);

      // Another process (a fresh ContactSheets) on the same store reuses the sheet of v1.
      const again = await new ContactSheets(engine, records).page(style('v1'), 0);
      assert.equal(requests.length, 2, 'no preview rendered again for the same version');
      assert.deepEqual(again.image.bytes, first.image.bytes);

      // A re-imported pack reports another version: its sheet is built anew.
      await new ContactSheets(engine, records).page(style('v2'), 0);
      assert.equal(requests.length, 4, 'a new version renders its previews');
    } finally {
      await records.close();
    }
  });
});
