/**
 * `npm run bench:hostile`: how long each crafted checkpoint of issue 11 takes to be refused by
 * the reader (in process, so CLI start-up is not counted), and the peak RSS of the whole run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTorchCheckpoint } from '../src/engine/checkpoint/index.ts';
import { hostileCheckpoints } from '../test/helpers/hostile.ts';

const dir = mkdtempSync(join(tmpdir(), 'pastiche-hostile-'));
try {
  for (const crafted of hostileCheckpoints()) {
    const file = crafted.write(join(dir, `${crafted.name}.pt`));
    const start = performance.now();
    let outcome = 'opened (unexpected)';
    try {
      openTorchCheckpoint(file).close();
    } catch (error) {
      outcome = `${(error as Error).name}: ${(error as Error).message.slice(file.length + 2, file.length + 92)}`;
    }
    const ms = performance.now() - start;
    console.log(`${crafted.name.padEnd(13)} ${ms.toFixed(0).padStart(6)} ms  ${outcome}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
