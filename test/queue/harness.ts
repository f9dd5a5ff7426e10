/**
 * A loopback queue deployment for tests and `bench/load.ts`: worker PROCESSES (the real
 * `pastiche worker` CLI) over a demo pack, and a bot-side RemoteEngine, on the local Redis with
 * a queue name of its own, removed afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { installDemoPacks } from '../helpers/demo-packs.ts';
import { sideKeys } from '../../src/queue/protocol.ts';
import { RemoteEngine } from '../../src/queue/remote-engine.ts';
import type { QueueSettings } from '../../src/queue/settings.ts';
import { REDIS_URL, uniqueName } from '../helpers/redis.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pastiche.js');

export interface Loopback {
  settings: QueueSettings;
  modelsDir: string;
  /**
   * Starts one more worker process (with `extraEnv` added) and waits until it pulls jobs;
   * `output()` is what it printed so far.
   */
  startWorker(extraEnv?: NodeJS.ProcessEnv): Promise<ChildProcess & { output(): string }>;
  engine(): Promise<RemoteEngine>;
  /** Kills the workers, closes the engines, deletes the queue's keys and the packs. */
  close(): Promise<void>;
}

/** Queue settings of a deployment of its own on the shared test Redis. */
export function testQueueSettings(overrides: Partial<QueueSettings> = {}): QueueSettings {
  return {
    name: uniqueName('queue'),
    url: REDIS_URL,
    concurrency: 1,
    attempts: 3,
    lockMs: 30_000,
    stalledIntervalMs: 30_000,
    maxRequestBytes: 20 * 1024 * 1024,
    maxResultBytes: 8 * 1024 * 1024,
    // Every key the deployment writes starts with this.
    keyPrefix: uniqueName('keys'),
    ...overrides,
  };
}

export async function loopback(
  options: { size?: 64 | 256; overrides?: Partial<QueueSettings> } = {},
): Promise<Loopback> {
  const size = options.size ?? 64;
  const modelsDir = mkdtempSync(join(tmpdir(), 'pastiche-queue-'));
  await installDemoPacks(modelsDir, size);
  const settings = testQueueSettings(options.overrides);
  const workers: ChildProcess[] = [];
  const engines: RemoteEngine[] = [];

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PASTICHE_MODELS_DIR: modelsDir,
    PASTICHE_CACHE_URL: REDIS_URL,
    // Two processes share the 2 cores: one ONNX thread each keeps them from fighting.
    PASTICHE_ENGINE_THREADS: '1',
    PASTICHE_ENGINE_WARMUP: 'false',
    PASTICHE_QUEUE_NAME: settings.name,
    PASTICHE_CACHE_KEY_PREFIX: settings.keyPrefix,
    PASTICHE_QUEUE_URL: settings.url,
    PASTICHE_QUEUE_CONCURRENCY: String(settings.concurrency),
    PASTICHE_QUEUE_ATTEMPTS: String(settings.attempts),
    PASTICHE_QUEUE_LOCK_MS: String(settings.lockMs),
    PASTICHE_QUEUE_STALLED_INTERVAL_MS: String(settings.stalledIntervalMs),
  };

  return {
    settings,
    modelsDir,
    async startWorker(extraEnv = {}) {
      // cwd: an empty dir, so a developer's .env never leaks into the test.
      const child = spawn(process.execPath, [BIN, 'worker'], {
        env: { ...env, ...extraEnv },
        cwd: modelsDir,
      });
      workers.push(child);
      let out = '';
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker not ready:\n${out}`)), 30_000);
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('worker ready')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`worker exited (${code}):\n${out}`));
        });
      });
      return Object.assign(child, { output: () => out });
    },
    async engine() {
      const engine = await RemoteEngine.create({ ...settings, cacheUrl: REDIS_URL, pollMs: 250 });
      engines.push(engine);
      return engine;
    },
    async close() {
      for (const child of workers) if (child.exitCode === null) child.kill('SIGKILL');
      await Promise.all(engines.map((e) => e.close()));
      const queue = new Queue(settings.name, {
        connection: { url: settings.url },
        prefix: settings.keyPrefix,
      });
      await queue.obliterate({ force: true });
      await queue.close();
      const redis = new Redis(settings.url);
      const keys = sideKeys(settings.keyPrefix, settings.name);
      const cancels = await redis.keys(keys.cancel('*'));
      await redis.del(keys.styles, keys.queued, ...cancels);
      redis.disconnect();
      rmSync(modelsDir, { recursive: true, force: true });
    },
  };
}
