/** Every log line about a job carries its request, user and job ids; a bug's stack is found by the id the user saw. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCommands, type Commands } from '../../src/commands/index.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { Engine, type EngineApi } from '../../src/engine/engine.ts';
import { createLogger } from '../../src/log.ts';
import { caller, collect, demoModels, last, PACK, photo } from '../commands/setup.ts';
import { tempDir } from '../helpers/packs.ts';

type Line = Record<string, unknown>;

function logged(): { lines: Line[]; logger: ReturnType<typeof createLogger> } {
  const lines: Line[] = [];
  const logger = createLogger({
    format: 'json',
    level: 'debug',
    destination: { write: (l) => lines.push(JSON.parse(l) as Line) },
  });
  return { lines, logger };
}

describe('job log lines', { timeout: 300_000 }, () => {
  const dir = tempDir('job-log');
  let engine: Engine;
  let config: Config;
  before(async () => {
    const models = await demoModels(dir);
    config = loadConfig({
      cwd: dir,
      env: { PASTICHE_MODELS_DIR: models, PASTICHE_CACHE_URL: 'memory' },
    });
    engine = await Engine.create({ modelsDir: models, cacheUrl: 'memory', warmup: false });
  });
  after(() => engine.close());

  it('carry requestId, userId and jobId', async () => {
    const { lines, logger } = logged();
    const commands = await createCommands({ engine, config, logger, onError: () => undefined });
    try {
      const input = { photo: photo('astronaut.png'), pack: PACK, exemplar: 3 };
      const result = last(
        await collect((s) => commands.stylize(caller('ann'), input, s)),
        'result',
      );
      const about = lines.filter((l) => l.jobId === result.jobId);
      assert.deepEqual(
        about.map((l) => l.msg),
        ['job submitted', 'job finished'],
      );
      for (const line of about) {
        assert.equal(line.userId, 'playground:ann');
        assert.match(String(line.requestId), /^[0-9a-f]{8}$/);
      }
      assert.equal(about[0]!.requestId, about[1]!.requestId);
      assert.equal(about[1]!.outcome, 'ok');

      // Another request: another id.
      const again = last(await collect((s) => commands.stylize(caller('ann'), input, s)), 'result');
      const next = lines.find((l) => l.jobId === again.jobId);
      assert.notEqual(next?.requestId, about[0]!.requestId);
    } finally {
      await commands.close();
    }
  });

  it("an internal error's reply cites the id its request's lines carry", async () => {
    const { lines, logger } = logged();
    const failing: EngineApi = Object.assign(Object.create(engine) as EngineApi, {
      submit: () => {
        throw new Error('a bug in the engine');
      },
    });
    const reported: string[] = [];
    const commands: Commands = await createCommands({
      engine: failing,
      config,
      logger,
      onError: (_error, requestId) => void reported.push(requestId ?? ''),
    });
    try {
      const input = { photo: photo('astronaut.png'), pack: PACK, exemplar: 3 };
      const reply = last(await collect((s) => commands.stylize(caller('bo'), input, s)), 'error');
      assert.equal(reply.code, 'internal');
      assert.match(reply.text, new RegExp(`ref ${reply.requestId}`));
      assert.deepEqual(reported, [reply.requestId]);
      const line = lines.find((l) => l.msg === 'error reply');
      assert.equal(line?.requestId, reply.requestId);
      assert.equal(line?.userId, 'playground:bo');
    } finally {
      await commands.close();
    }
  });
});
