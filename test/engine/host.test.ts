/**
 * The engine across its process boundary: the inference host (a child process) holds the models,
 * the main process keeps the queue. A host killed mid-job costs that job one clear error; a
 * command during start-up is answered before the pack loads; the main loop runs while the host
 * computes; cancellation crosses the boundary. Pausing the host with SIGSTOP makes each "while"
 * a state the test waits for, not a race against a timer.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPlayground } from '../../src/bots/playground/server.ts';
import type { Reply } from '../../src/commands/types.ts';
import { Engine, type EngineHealth } from '../../src/engine/engine.ts';
import { UserError } from '../../src/engine/errors.ts';
import type { JobStage } from '../../src/engine/scheduler/types.ts';
import { tempDir } from '../helpers/packs.ts';
import { caller, demoModels, PACK, photo, start, type Rig } from '../commands/setup.ts';

/** The host's process id; it must be running. */
function hostPid(engine: Engine): number {
  const { pid } = engine.health();
  assert.ok(pid, `no host process: ${JSON.stringify(engine.health())}`);
  return pid;
}

/** Resolves at the first reply `match` accepts; collects every reply. */
function replies(match: (reply: Reply) => boolean): {
  all: Reply[];
  sink: (reply: Reply) => void;
  seen: Promise<Reply>;
} {
  const all: Reply[] = [];
  let resolve: (reply: Reply) => void = () => undefined;
  const seen = new Promise<Reply>((r) => (resolve = r));
  return {
    all,
    seen,
    sink: (reply) => {
      all.push(reply);
      if (match(reply)) resolve(reply);
    },
  };
}

const atStage = (stage: JobStage) => (r: Reply) => r.kind === 'status' && r.stage === stage;

/** Waits until `check` holds, polling on the event loop (no fixed sleep). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('inference host', () => {
  const dir = tempDir('host');
  let models: string;
  before(async () => {
    models = await demoModels(dir);
  });

  describe('start-up', () => {
    let rig: Rig;
    after(() => rig?.close());

    it(
      'answers a command ("warming up") before the pack has loaded, then runs it',
      { timeout: 90_000 },
      async () => {
        rig = await start(dir, models, 'memory');
        let preloaded = false;
        // The first call starts the host; frozen at once, it cannot load the pack until SIGCONT.
        const preload = rig.engine.preload(PACK).then(() => void (preloaded = true));
        const pid = hostPid(rig.engine);
        process.kill(pid, 'SIGSTOP');
        const r = replies(atStage('warming-up'));
        const command = rig.commands.stylize(
          caller('early'),
          { photo: photo('astronaut.png') },
          r.sink,
        );
        const status = await r.seen;
        assert.equal(preloaded, false, 'acknowledged while the pack was still loading');
        assert.equal(status.kind === 'status' && status.text, 'Warming up (loading the style)…');
        process.kill(pid, 'SIGCONT');
        await command;
        await preload;
        assert.equal(r.all.at(-1)?.kind, 'result', JSON.stringify(r.all.map((x) => x.kind)));
        assert.equal(rig.engine.health().state, 'ready');
      },
    );
  });

  describe('crash', () => {
    let rig: Rig;
    const logs: string[] = [];
    after(() => rig?.close());

    it(
      'a host killed mid-job gives that job one clear error, restarts, and the next job runs',
      { timeout: 240_000 },
      async () => {
        rig = await start(dir, models, 'memory');
        await rig.engine.preload(PACK);
        const playground = await startPlayground({
          commands: rig.commands,
          host: '127.0.0.1',
          port: 0,
          maxBytes: 1 << 24,
          health: () => rig.engine.health(),
          log: (line) => logs.push(line),
        });
        try {
          const pid = hostPid(rig.engine);
          const r = replies(atStage('aligning'));
          const command = rig.commands.stylize(
            caller('victim'),
            { photo: photo('astronaut.png') },
            r.sink,
          );
          await r.seen;
          // Stopped first so it cannot answer the call already on its way, then killed.
          process.kill(pid, 'SIGSTOP');
          process.kill(pid, 'SIGKILL');
          await command;
          const errors = r.all.filter((x) => x.kind === 'error');
          assert.equal(errors.length, 1, JSON.stringify(r.all.map((x) => x.kind)));
          assert.equal(r.all.at(-1), errors[0], 'the error is the final reply');
          assert.equal(errors[0]!.kind === 'error' && errors[0]!.code, 'engine-restarted');
          assert.equal(
            errors[0]!.kind === 'error' && errors[0]!.text,
            new UserError('engine-restarted').userMessage,
          );

          const next = replies(() => false);
          await rig.commands.stylize(caller('next'), { photo: photo('astronaut.png') }, next.sink);
          assert.equal(next.all.at(-1)?.kind, 'result');
          const health = rig.engine.health();
          assert.equal(health.state, 'ready');
          assert.equal(health.restarts, 1);
          assert.match(health.lastCrash?.reason ?? '', /SIGKILL/);
          assert.notEqual(hostPid(rig.engine), pid, 'a new host process');

          const body = (await (
            await fetch(new URL('/healthz', playground.url))
          ).json()) as EngineHealth;
          assert.equal(body.restarts, 1);
          assert.equal(body.state, 'ready');
        } finally {
          await playground.stop();
          await playground.close();
        }
      },
    );
  });

  describe('while the host computes', () => {
    let engine: Engine;
    // Each job its own photo, so none is served from the latent cache (it must reach the host).
    const request = (userId: string, name: string) => ({
      userId,
      face: { kind: 'photo' as const, bytes: photo(name) },
      style: { kind: 'exemplar' as const, pack: PACK },
    });
    before(async () => {
      engine = await Engine.create({ modelsDir: join(models), cacheUrl: 'memory', warmup: false });
      await engine.preload(PACK);
    });
    after(() => engine.close());

    it('the main loop keeps serving during a generate', { timeout: 90_000 }, async () => {
      const pid = hostPid(engine);
      const job = engine.submit(request('painter', 'astronaut.png'));
      let settled = false;
      void job.result.finally(() => (settled = true));
      await new Promise<void>((resolve) =>
        job.on('stage', ({ stage }) => stage === 'generating' && resolve()),
      );
      process.kill(pid, 'SIGSTOP');
      // The generator call is in the host, which cannot answer: the main loop still turns.
      let ticks = 0;
      await new Promise<void>((resolve) => {
        const tick = () => (++ticks >= 200 ? resolve() : setImmediate(tick));
        setImmediate(tick);
      });
      assert.equal(settled, false, 'the job waits for the host');
      process.kill(pid, 'SIGCONT');
      const result = await job.result;
      assert.ok(result.image.bytes.length > 0);
    });

    it(
      'cancels a job whose call is in the host, and the host answers the next one',
      { timeout: 90_000 },
      async () => {
        const pid = hostPid(engine);
        const job = engine.submit(request('quitter', 'yRpe13BHdKw.jpg'));
        await new Promise<void>((resolve) =>
          job.on('stage', ({ stage }) => stage === 'aligning' && resolve()),
        );
        process.kill(pid, 'SIGSTOP');
        assert.ok(job.cancel());
        await assert.rejects(
          job.result,
          (e: unknown) => e instanceof UserError && e.code === 'cancelled',
        );
        const next = engine.submit(request('patient', 'i5R8hbZFDdc.jpg'));
        process.kill(pid, 'SIGCONT');
        assert.ok((await next.result).image.bytes.length > 0);
        // The abandoned call came back (the host stopped it or finished it): nothing detached.
        await until(() => engine.health().jobs.detached === 0);
        assert.equal(engine.health().restarts, 0);
      },
    );
  });
});
