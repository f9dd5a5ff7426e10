/** `pastiche worker`'s health server: `/healthz`, `/readyz` (Redis, packs) and `/metrics`. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loopback, type Loopback } from '../queue/harness.ts';

describe('pastiche worker health endpoints', { timeout: 120_000 }, () => {
  let rig: Loopback;
  before(async () => {
    rig = await loopback();
  });
  after(() => rig.close());

  it('serves /healthz, /readyz and /metrics on the configured port', async () => {
    const worker = await rig.startWorker({
      PASTICHE_HEALTH_ENABLED: 'true',
      PASTICHE_HEALTH_PORT: '0',
    });
    // Not a terminal: the worker logs JSON lines.
    const base = /"msg":"health: (http:\/\/127\.0\.0\.1:\d+\/)healthz/.exec(worker.output())?.[1];
    assert.ok(base, worker.output());
    assert.equal((await fetch(`${base}healthz`)).status, 200);
    const ready = await fetch(`${base}readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), {
      ready: true,
      checks: { redis: true, engine: true, packs: true },
    });
    const metrics = await (await fetch(`${base}metrics`)).text();
    assert.match(metrics, /^pastiche_queue_depth\{state="queued"\} 0$/m);
    assert.match(metrics, /^pastiche_inference_host_restarts 0$/m);
    assert.match(metrics, /^nodejs_eventloop_lag_seconds /m);
  });
});
