/**
 * A worker whose engine refuses a job at submit (the same on every worker: shutting down, a
 * request it cannot take) fails it once for good instead of retrying it `attempts` times.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Queue } from 'bullmq';
import type { Engine } from '../../src/engine/engine.ts';
import { UserError } from '../../src/engine/errors.ts';
import { silentLogger } from '../../src/log.ts';
import { RemoteEngine } from '../../src/queue/remote-engine.ts';
import { startQueueWorker } from '../../src/queue/worker.ts';
import { REDIS_URL } from '../helpers/redis.ts';
import { testQueueSettings } from './harness.ts';

const settings = testQueueSettings();

let submits = 0;
const refusing = {
  styles: () => [],
  submit: () => {
    submits++;
    throw new UserError('busy', 'shutting down');
  },
} as unknown as Engine;

const cleanup: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

test('a job the engine refuses at submit fails once, with the refusal', async () => {
  const worker = await startQueueWorker(refusing, settings, silentLogger);
  cleanup.push(() => worker.close());
  const engine = await RemoteEngine.create({ ...settings, cacheUrl: REDIS_URL });
  cleanup.push(() => engine.close());
  const queue = new Queue(settings.name, {
    connection: { url: REDIS_URL },
    prefix: settings.keyPrefix,
  });
  cleanup.push(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
  });

  const handle = engine.submit({
    userId: 'refused',
    face: { kind: 'random', seed: 'x' },
    style: { kind: 'exemplar', pack: 'demo-64', exemplar: 0 },
  });
  await assert.rejects(handle.result, { code: 'busy' });
  const job = await queue.getJob(handle.id);
  assert.ok(job?.finishedOn, 'failed for good');
  assert.equal(job.attemptsMade, 1);
  assert.equal(submits, 1, 'never retried');
});
