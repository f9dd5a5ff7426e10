/** `/metrics`, `/healthz`, `/readyz`: the health server, the metrics a job leaves, the app's. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApp } from '../../src/app.ts';
import type { Commands, Reply } from '../../src/commands/index.ts';
import { loadConfig } from '../../src/config.ts';
import { startHealthServer } from '../../src/health-server.ts';
import { createLogger } from '../../src/log.ts';
import { Metrics } from '../../src/metrics.ts';
import { caller, demoModels, PACK, photo, start, type Rig } from '../commands/setup.ts';
import { tempDir } from '../helpers/packs.ts';

async function get(url: string): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(url);
  return {
    status: res.status,
    body: await res.text(),
    type: res.headers.get('content-type') ?? '',
  };
}

async function replies(run: (sink: (r: Reply) => void) => Promise<void>): Promise<Reply[]> {
  const out: Reply[] = [];
  await run((r) => void out.push(r));
  return out;
}

describe('health server', () => {
  it('/readyz is 503 naming the failing check until it passes, then 200', async () => {
    let packs = false;
    const server = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      metrics: new Metrics(),
      ready: { packs: () => packs, adapters: () => true },
    });
    after(() => server.close());
    const before = await get(`${server.url}readyz`);
    assert.equal(before.status, 503);
    assert.deepEqual(JSON.parse(before.body), {
      ready: false,
      checks: { packs: false, adapters: true },
    });
    packs = true;
    const now = await get(`${server.url}readyz`);
    assert.equal(now.status, 200);
    assert.equal((JSON.parse(now.body) as { ready: boolean }).ready, true);
    assert.equal((await get(`${server.url}healthz`)).status, 200);
    assert.equal((await get(`${server.url}nope`)).status, 404);
  });

  it('a check that throws counts as not ready', async () => {
    const server = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      metrics: new Metrics(),
      ready: { redis: () => Promise.reject(new Error('ECONNREFUSED')) },
    });
    after(() => server.close());
    assert.equal((await get(`${server.url}readyz`)).status, 503);
  });
});

describe('metrics after jobs', { timeout: 300_000 }, () => {
  const dir = tempDir('metrics');
  let rig: Rig;
  let commands: Commands;
  let url: string;
  let close: () => Promise<void>;
  before(async () => {
    const metrics = new Metrics(() => rig.engine.health());
    const models = await demoModels(dir);
    rig = await start(dir, models, 'memory', { LIMITS_PER_USER_PER_HOUR: '1' }, {}, metrics);
    commands = rig.commands;
    const server = await startHealthServer({ host: '127.0.0.1', port: 0, metrics, ready: {} });
    url = `${server.url}metrics`;
    close = () => server.close();
  });
  // In the describe body: an `after` inside `before` would run when that hook ends.
  after(async () => {
    await close();
    await rig.close();
  });

  it('counts outcomes, stage latencies, cache hits and limit refusals', async () => {
    const input = { photo: photo('astronaut.png'), pack: PACK, exemplar: 3 };
    const first = await replies((s) => commands.stylize(caller('alice'), input, s));
    assert.ok(
      first.some((r) => r.kind === 'result'),
      JSON.stringify(first),
    );
    // The same photo from someone else: its content code comes from the cache.
    const second = await replies((s) => commands.stylize(caller('bob'), input, s));
    assert.ok(second.some((r) => r.kind === 'result'));
    // Alice's hourly allowance (1) is spent.
    const refused = await replies((s) => commands.stylize(caller('alice'), input, s));
    const refusal = refused.at(-1);
    assert.equal(refusal?.kind === 'error' ? refusal.code : refusal?.kind, 'rate-limited');
    // A job that fails: no face in a flat image.
    const blank = { ...input, photo: photo('no_face_cat.png') };
    await replies((s) => commands.stylize(caller('carol'), blank, s));

    const { status, body, type } = await get(url);
    assert.equal(status, 200);
    assert.match(type, /^text\/plain; version=0\.0\.4/);
    assert.match(body, /^pastiche_jobs_total\{outcome="ok"\} 2$/m);
    assert.match(body, /^pastiche_jobs_total\{outcome="no-face"\} 1$/m);
    assert.match(body, /^pastiche_limit_refusals_total\{code="rate-limited"\} 1$/m);
    assert.match(body, /^pastiche_content_cache_total\{result="miss"\} 1$/m);
    assert.match(body, /^pastiche_content_cache_total\{result="hit"\} 1$/m);
    assert.match(body, /^pastiche_stage_duration_seconds_count\{stage="generate"\} 2$/m);
    assert.match(body, /^pastiche_stage_duration_seconds_bucket\{le="\+Inf",stage="encode"\} 1$/m);
    assert.match(body, /^pastiche_queue_depth\{state="queued"\} 0$/m);
    assert.match(body, /^pastiche_inference_host_restarts 0$/m);
    assert.match(body, /^nodejs_eventloop_lag_seconds \d/m);
  });
});

describe('the app serves health endpoints', { timeout: 300_000 }, () => {
  const dir = tempDir('app-health');
  it('/healthz at once, /readyz once the default pack is loaded, /metrics; the playground port answers the same', async () => {
    const models = await demoModels(dir);
    const lines: string[] = [];
    const config = loadConfig({
      cwd: dir,
      env: {
        PASTICHE_MODELS_DIR: models,
        PASTICHE_CACHE_URL: 'memory',
        PASTICHE_ENGINE_WARMUP: 'false',
        PASTICHE_PLAYGROUND_PORT: '0',
        PASTICHE_HEALTH_ENABLED: 'true',
        PASTICHE_HEALTH_PORT: '0',
      },
    });
    const logger = createLogger({ format: 'json', destination: { write: (l) => lines.push(l) } });
    const app = await startApp({ config, logger });
    after(() => app.close());
    assert.ok(app.healthUrl);
    assert.equal((await get(`${app.healthUrl}healthz`)).status, 200);
    // The pack loads in the inference host behind the running adapters: wait for the state.
    let ready = await get(`${app.healthUrl}readyz`);
    while (ready.status !== 200) {
      assert.equal(ready.status, 503);
      await new Promise((resolve) => setTimeout(resolve, 50));
      ready = await get(`${app.healthUrl}readyz`);
    }
    assert.deepEqual(JSON.parse(ready.body), {
      ready: true,
      checks: { adapters: true, engine: true },
    });
    const metrics = await get(`${app.healthUrl}metrics`);
    assert.match(metrics.body, /^pastiche_inference_host_restarts 0$/m);

    // The playground's port: the same `/healthz` and `/readyz`; `/metrics` only on the health
    // port, which stays on loopback while the playground may be public.
    const page = app.urls.playground!;
    const pageReady = await get(`${page}readyz`);
    assert.equal(pageReady.status, 200);
    assert.deepEqual(JSON.parse(pageReady.body), JSON.parse(ready.body));
    const live = JSON.parse((await get(`${app.healthUrl}healthz`)).body) as Record<string, unknown>;
    const pageLive = JSON.parse((await get(`${page}healthz`)).body) as Record<string, unknown>;
    assert.equal(live.ok, true);
    assert.equal(live.state, 'ready', "the engine's state");
    assert.deepEqual(Object.keys(pageLive).sort(), Object.keys(live).sort());
    const pageMetrics = await get(`${page}metrics`);
    assert.notEqual(pageMetrics.status, 200);
    assert.doesNotMatch(pageMetrics.body, /pastiche_/);
    assert.match(lines.join(''), /"msg":"health: http:\/\/127\.0\.0\.1:\d+\/healthz/);
  });
});
