/**
 * What `/metrics` counts of requests turned away: `commands.check` refusals by code, and
 * refusals for want of room (a limit, the engine's queue, shutting down) wherever they happen.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Commands } from '../../src/commands/index.ts';
import type { Engine } from '../../src/engine/engine.ts';
import { Metrics } from '../../src/metrics.ts';
import { tempDir } from '../helpers/packs.ts';
import { caller, collect, demoModels, last, PACK, photo, start, type Rig } from './setup.ts';

async function counted(metrics: Metrics, name: string): Promise<Record<string, number>> {
  const text = (await metrics.render()).body;
  const out: Record<string, number> = {};
  for (const [, code, n] of text.matchAll(new RegExp(`^${name}\\{code="([^"]+)"\\} (\\d+)$`, 'gm')))
    out[code!] = Number(n);
  return out;
}

describe('refusals in /metrics', { timeout: 300_000 }, () => {
  const dir = tempDir('refusals');
  let rig: Rig;
  let engine: Engine;
  let commands: Commands;
  let metrics: Metrics;
  before(async () => {
    metrics = new Metrics(() => rig.engine.health());
    const models = await demoModels(dir);
    rig = await start(dir, models, 'memory', { LIMITS_PER_USER_PER_HOUR: '1' }, {}, metrics);
    ({ engine, commands } = rig);
  });
  after(() => rig.close());

  it("counts the check's refusals by code, and a limit's among the refusals", async () => {
    const noPhoto = await commands.check(caller('dana'), { command: 'stylize', photo: false });
    assert.equal(noPhoto?.code, 'no-photo');
    const input = { photo: photo('astronaut.png'), pack: PACK, exemplar: 3 };
    last(await collect((s) => commands.stylize(caller('erin'), input, s)), 'result');
    const spent = await commands.check(caller('erin'), { command: 'stylize', photo: true });
    assert.equal(spent?.code, 'rate-limited');
    assert.equal(
      await commands.check(caller('fred'), { command: 'stylize', photo: true }),
      undefined,
    );

    assert.deepEqual(await counted(metrics, 'pastiche_check_refusals_total'), {
      'no-photo': 1,
      'rate-limited': 1,
    });
    // A missing photo is the user's input, not a want of room.
    assert.deepEqual(await counted(metrics, 'pastiche_limit_refusals_total'), {
      'rate-limited': 1,
    });
  });

  it("counts the engine's busy refusal and the one of a shutdown", async () => {
    // A closed engine refuses every submit with `busy`, as a full queue does.
    await engine.close();
    const input = { photo: photo('astronaut.png'), pack: PACK, exemplar: 3 };
    const busy = last(await collect((s) => commands.stylize(caller('gail'), input, s)), 'error');
    assert.equal(busy.code, 'busy');
    assert.equal((await counted(metrics, 'pastiche_limit_refusals_total')).busy, 1);

    await commands.close();
    const late = last(await collect((s) => commands.help(caller('hal'), s)), 'error');
    assert.equal(late.code, 'busy');
    assert.equal((await counted(metrics, 'pastiche_limit_refusals_total')).busy, 2);
  });
});
