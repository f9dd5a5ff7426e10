/**
 * The playground in real Chromium: upload a face, get a portrait, re-roll it, paste it back,
 * a fusion strip, an own exemplar image, upload a photo without a face and read the error, as
 * a user would. Runs the app on the 64 px demo pack.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { UserError } from '../../src/engine/errors.ts';
import { installDemoPacks } from '../helpers/demo-packs.ts';
import { chromiumMissing, launchChromium, type Browser } from './chromium.ts';
import { ALIGNMENT, testEnv } from './support.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SCREENSHOT = join(ROOT, 'test', 'output', 'playground.png');
/**
 * The README's picture: written when missing or with UPDATE_SCREENSHOTS=1, so a test run does
 * not leave a changed tracked file behind (the clock and the sampled styles differ each time).
 */
const README_SCREENSHOT = join(ROOT, 'docs', 'playground.png');

/** The bytes of every result image on the page, fetched with the page's own session. */
async function resultImages(page: Page): Promise<string[]> {
  return page.$$eval('img.result', async (imgs) =>
    Promise.all(
      imgs.map(async (img) => {
        const bytes = new Uint8Array(
          await (await fetch((img as HTMLImageElement).src)).arrayBuffer(),
        );
        return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
      }),
    ),
  );
}

/** The natural size of the newest result image. */
async function lastResultSize(page: Page): Promise<[number, number]> {
  return page.$$eval('img.result', (imgs) => {
    const img = imgs.at(-1) as HTMLImageElement;
    return [img.naturalWidth, img.naturalHeight] as [number, number];
  });
}

/** Waits until `count` result images have loaded. */
async function waitForResults(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (n) =>
      [...document.querySelectorAll<HTMLImageElement>('img.result')].filter(
        (i) => i.complete && i.naturalWidth > 0,
      ).length >= n,
    count,
    { timeout: 60_000 },
  );
}

async function userFlow(page: Page, url: string): Promise<void> {
  await page.goto(url);
  assert.match(
    (await page.textContent('#notice')) ?? '',
    /RANDOM weights[\s\S]*models pull cartoon/,
  );

  await page.setInputFiles('#photo', join(ALIGNMENT, 'astronaut.png'));
  await waitForResults(page, 1);
  assert.match((await page.textContent('figure.result .params')) ?? '', /demo-64/);

  await page.click('figure.result button[title="New style"]');
  await waitForResults(page, 2);
  const [first, second] = await resultImages(page);
  assert.notEqual(first, second, 'a new style gives a different picture');

  // Paste-back: the same photo, the result at the photo's own size (512², the crop is 64²).
  await page.check('#whole-photo');
  await page.click('#go');
  await waitForResults(page, 3);
  assert.deepEqual(await lastResultSize(page), [512, 512]);
  assert.match(
    (await page.locator('figure.result .params').last().textContent()) ?? '',
    /1 face stylized/,
  );
  await page.uncheck('#whole-photo');

  // Fusion: from the chosen exemplar to exemplar 3 in six steps, one picture of 6×64 by 64.
  await page.fill('#blend-with', '3');
  await page.click('#strip');
  await waitForResults(page, 4);
  assert.deepEqual(await lastResultSize(page), [384, 64]);
  const strip = (await page.locator('figure.result .params').last().textContent()) ?? '';
  assert.match(strip, /1: `demo-64:0\+3@0`/);
  assert.match(strip, /6: `demo-64:0\+3@1`/);

  // An own exemplar image instead of the pack's exemplars: the request carries it, the result
  // names it and its reference.
  await page.setInputFiles('#style-image', join(ALIGNMENT, 'i5R8hbZFDdc.jpg'));
  await page.click('#go');
  await waitForResults(page, 5);
  const own = (await page.locator('figure.result .params').last().textContent()) ?? '';
  assert.match(own, /your exemplar image/);
  assert.match(own, /demo-64:image:[0-9a-f]+/);
  await page.setInputFiles('#style-image', []);

  await page.setInputFiles('#photo', join(ALIGNMENT, 'no_face_cat.png'));
  const error = page.locator('.message.bot .error').last();
  await error.waitFor({ timeout: 60_000 });
  assert.equal(await error.textContent(), new UserError('no-face').userMessage);

  await page.click('#sheet-box summary');
  await page.waitForFunction(
    () => document.querySelector<HTMLImageElement>('#sheet')!.naturalWidth > 0,
  );

  // Tall enough for the whole conversation, for the README.
  await page.setViewportSize({ width: 1280, height: 2400 });
  const paths = [SCREENSHOT];
  if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(README_SCREENSHOT)) {
    paths.push(README_SCREENSHOT);
  }
  for (const path of paths) {
    await mkdir(dirname(path), { recursive: true });
    await page.screenshot({ path });
  }
  assert.ok((await readFile(SCREENSHOT)).length > 10_000);
}

describe('playground in Chromium', () => {
  let app: App;
  let browser: Browser;
  let page: Page;
  let models: string;
  const log: string[] = [];

  before(async () => {
    // npm test's pretest (test/prereqs.sh) installs Debian's chromium: without it this fails, not skips.
    assert.equal(chromiumMissing, undefined, chromiumMissing);
    models = await mkdtemp(join(tmpdir(), 'pastiche-playground-'));
    // Installed beforehand, so the app finds a pack and never tries to download one.
    await installDemoPacks(models, 64);
    const config = loadConfig({ env: await testEnv(models), cwd: models });
    app = await startApp({ config, log: (line) => log.push(line) });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (error) => log.push(`page error: ${error.message}`));
    page.on('console', (message) => log.push(`console ${message.type()}: ${message.text()}`));
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await rm(models, { recursive: true, force: true });
  });

  it('stylizes a photo, re-rolls it, pastes it back, fuses two styles and explains a photo without a face', async (t) => {
    const start = performance.now();
    try {
      await userFlow(page, app.urls.playground!);
    } catch (error) {
      // What the user saw and what the app logged make a failure here readable.
      t.diagnostic(`page: ${await page.innerText('#messages').catch(() => '?')}`);
      t.diagnostic(`log: ${log.join('\n')}`);
      throw error;
    }
    assert.deepEqual(
      log.filter((line) => line.startsWith('page error')),
      [],
    );
    t.diagnostic(`browser flow took ${((performance.now() - start) / 1000).toFixed(1)} s`);
  });
});
