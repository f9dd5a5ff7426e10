/**
 * Queue mode's failure behaviour (issue 7) against real processes: a job that fails on every
 * attempt reaches the user as one clear error; a worker stopped with SIGTERM drains its job;
 * a Redis restart loses no pending job. The restart test runs its own redis-server, never the
 * shared one.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type { StylizeResult } from '../../src/engine/engine.ts';
import { UserError } from '../../src/engine/errors.ts';
import type { StylizeRequest } from '../../src/engine/request.ts';
import { privateRedis, type PrivateRedis } from '../helpers/redis.ts';
import { loopback, type Loopback } from './harness.ts';

const user = (tag: string, i: number): string => `test:failures:${tag}${i % 3}`;
const request = (tag: string, i = 0): StylizeRequest => ({
  userId: user(tag, i),
  face: { kind: 'random', seed: `${tag}${i}` },
  style: { kind: 'exemplar', pack: 'demo-64' },
});

/** Resolves with the exit code; rejects if the process outlives `ms`. */
function exited(child: ChildProcess, ms: number): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process ${child.pid} still running`)), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function queueOf<T>(lb: Loopback, read: (queue: Queue) => Promise<T>): Promise<T> {
  const queue = new Queue(lb.settings.name, {
    connection: { url: lb.settings.url },
    prefix: lb.settings.keyPrefix,
  });
  try {
    return await read(queue);
  } finally {
    await queue.close();
  }
}

describe('queue failures: a job that fails on every attempt', { timeout: 30_000 }, () => {
  let lb: Loopback;
  before(async () => {
    lb = await loopback({ overrides: { attempts: 2 } });
  });
  after(async () => {
    await lb.close();
  });

  it('reaches the user once, as `internal`, after exactly `attempts` tries', async () => {
    await lb.startWorker();
    // The worker has published its styles; packs load lazily (warm-up off), so a generator
    // corrupted now fails each job's model load: a server fault, not the user's, so retried.
    // Every generator graph: a pack with preview halves loads those, not the whole graph.
    for (const graph of ['generator', 'generator-head', 'generator-tail']) {
      writeFileSync(join(lb.modelsDir, 'demo-64', `${graph}.onnx`), 'not an onnx model');
    }
    const engine = await lb.engine();
    const handle = engine.submit(request('fail'));
    let failed = 0;
    handle.on('failed', () => failed++);
    await assert.rejects(handle.result, (e: unknown) => {
      assert.ok(e instanceof UserError, `a UserError, not ${String(e)}`);
      assert.equal(e.code, 'internal');
      assert.equal(e.userMessage, 'Something went wrong on my side. Try again in a moment.');
      assert.match(e.detail ?? '', /^failed after 2 attempt\(s\): /);
      return true;
    });
    const record = await queueOf(lb, (q) => q.getJob(handle.id));
    assert.ok(record, 'the failed job is kept');
    assert.equal(record.attemptsMade, 2);
    assert.equal(record.attemptsStarted, 2);
    assert.ok(record.finishedOn, 'failed for good');
    // A later job's failure reaches the bot after any duplicate event for this one would.
    await assert.rejects(engine.submit(request('fail', 1)).result, { code: 'internal' });
    assert.equal(failed, 1, 'one failure event for the user');
  });
});

describe('queue failures: graceful worker shutdown', { timeout: 60_000 }, () => {
  let lb: Loopback;
  before(async () => {
    lb = await loopback();
  });
  after(async () => {
    // The workers cached these users' latents in the shared Redis.
    const engine = await lb.engine();
    await Promise.all([0, 1].map((i) => engine.forget(user('drain', i))));
    await lb.close();
  });

  it('drains the running job on SIGTERM, takes no new one, and exits 0', async () => {
    const worker = await lb.startWorker();
    const engine = await lb.engine();
    const first = engine.submit(request('drain', 0));
    const second = engine.submit(request('drain', 1));
    second.result.catch(() => undefined); // cancelled when the engine closes
    let done = 0;
    first.on('done', () => done++);
    // The first job loads the pack (warm-up off), so it is still running when the signal lands.
    await new Promise<void>((resolve) => first.once('started', () => resolve()));
    const signalledAt = Date.now();
    worker.kill('SIGTERM');
    const [code, result] = await Promise.all([exited(worker, 20_000), first.result]);
    assert.equal(code, 0, 'a drained worker exits 0');
    assert.equal(result.image.width, 64);
    const [record, counts] = await queueOf(lb, async (q) => [
      await q.getJob(first.id),
      await q.getJobCounts('completed', 'failed', 'active', 'prioritized'),
    ]);
    assert.ok(record?.finishedOn, 'the job is completed');
    assert.ok(record.finishedOn >= signalledAt, 'it finished after the signal: it was drained');
    assert.equal(record.attemptsStarted, 1, 'not left to stall and rerun');
    assert.deepEqual(counts, { completed: 1, failed: 0, active: 0, prioritized: 1 });
    // A new worker runs the job left waiting; its result comes after any duplicate of the first.
    await lb.startWorker();
    assert.equal((await second.result).image.width, 64);
    assert.equal(done, 1, 'one result');
  });
});

describe('queue failures: Redis restarts with jobs pending', { timeout: 45_000 }, () => {
  let dir: string;
  let redis: PrivateRedis | undefined;
  let lb: Loopback | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pastiche-redis-'));
    redis = await privateRedis({ dir });
    // The queue lives on this private server; the latent cache stays on the shared one.
    lb = await loopback({ overrides: { url: redis.url } });
  });
  after(async () => {
    // A test that failed mid-restart left the server down; the cleanup below needs it.
    if (redis && redis.process.exitCode !== null) await redis.restart();
    if (lb) {
      const engine = await lb.engine();
      await Promise.all([0, 1, 2].map((i) => engine.forget(user('restart', i))));
      await lb.close();
    }
    if (redis) {
      const server = redis.process;
      await Promise.race([redis.stop(), exited(server, 10_000)]).catch(() =>
        server.kill('SIGKILL'),
      );
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the jobs enqueued before the restart, and the bot gets their results', async () => {
    assert.ok(lb && redis);
    const engine = await lb.engine();
    const handles = Array.from({ length: 4 }, (_, i) => engine.submit(request('restart', i)));
    const results: Promise<StylizeResult>[] = handles.map((h) => h.result);
    let done = 0;
    for (const h of handles) h.on('done', () => done++);
    // Wait until all four are in Redis (the enqueue runs in the background).
    const deadline = Date.now() + 10_000;
    const waiting = (): Promise<number> => queueOf(lb!, (q) => q.getPrioritizedCount());
    while ((await waiting()) < handles.length) {
      assert.ok(Date.now() < deadline, 'jobs enqueued');
      await new Promise((r) => setTimeout(r, 50));
    }

    assert.equal(await redis.stop(), 0);
    await new Promise((r) => setTimeout(r, 500)); // the bot's connections notice the loss
    await redis.restart();

    await lb.startWorker();
    const images = await Promise.all(results);
    assert.deepEqual(
      images.map((i) => i.image.width),
      [64, 64, 64, 64],
    );
    // A later job's result reaches the bot after any duplicate event for these would.
    assert.equal((await engine.submit(request('restart', 4)).result).image.width, 64);
    assert.equal(done, 4, 'one result each');
    const counts = await queueOf(lb, (q) => q.getJobCounts('completed', 'failed', 'prioritized'));
    assert.deepEqual(counts, { completed: 5, failed: 0, prioritized: 0 });
  });
});
