/** A command layer over the 64 px demo pack, with config from env-style overrides. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.ts';
import { createCommands, type Commands } from '../../src/commands/index.ts';
import type { Caller, Reply } from '../../src/commands/types.ts';
import { Engine, type EngineOptions } from '../../src/engine/engine.ts';
import type { JobMetrics } from '../../src/metrics.ts';
import { installDemoPacks } from '../helpers/demo-packs.ts';
import { FIXTURES } from '../helpers/packs.ts';

export const PACK = 'demo-64';

export const photo = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(join(FIXTURES, 'alignment', name)));

/** A caller in the playground; `channelId` defaults to one shared channel. */
export const caller = (userId: string, channelId = 'room'): Caller => ({
  userId,
  platform: 'playground',
  channelId,
});

export interface Rig {
  engine: Engine;
  commands: Commands;
  config: Config;
  /** Stops the commands, then the engine (a simulated shutdown). */
  close(): Promise<void>;
}

/** Writes the demo packs into `dir/models` (once per directory is enough). */
export async function demoModels(dir: string): Promise<string> {
  return installDemoPacks(join(dir, 'models'), 64);
}

/** The engine {@link start} makes: no warm-up, no batching, `cacheUrl` for its latent cache. */
export function testEngine(
  models: string,
  cacheUrl: string,
  options: Partial<EngineOptions> = {},
): Promise<Engine> {
  return Engine.create({ modelsDir: models, cacheUrl, warmup: false, maxBatch: 1, ...options });
}

/**
 * Starts an engine and the commands over `models`, with `cacheUrl` for both the latent cache
 * and the job records, and `PASTICHE_*` overrides (e.g. `LIMITS_PER_USER_QUEUED: '2'`).
 *
 * `engine` is options for the rig's own engine, or an engine (from {@link testEngine}) to run the
 * commands over instead, which `close` leaves running: rigs that differ only in their settings
 * then share one inference host rather than each forking its own and loading the pack again.
 * `metrics`: where the commands count jobs and refusals.
 */
export async function start(
  dir: string,
  models: string,
  cacheUrl: string,
  env: Record<string, string> = {},
  engine: Engine | Partial<EngineOptions> = {},
  metrics?: JobMetrics,
): Promise<Rig> {
  const prefixed = Object.fromEntries(Object.entries(env).map(([k, v]) => [`PASTICHE_${k}`, v]));
  const config = loadConfig({
    cwd: dir,
    env: { PASTICHE_MODELS_DIR: models, PASTICHE_CACHE_URL: cacheUrl, ...prefixed },
  });
  const shared = engine instanceof Engine;
  const rigEngine = shared ? engine : await testEngine(models, cacheUrl, engine);
  const commands = await createCommands({
    engine: rigEngine,
    config,
    ...(metrics && { metrics }),
    onError: (e) => console.error(e),
  });
  return {
    engine: rigEngine,
    commands,
    config,
    async close() {
      await commands.close();
      if (!shared) await rigEngine.close();
    },
  };
}

/** Runs one command and returns every reply it sent. */
export async function collect(
  run: (sink: (reply: Reply) => void) => Promise<void>,
): Promise<Reply[]> {
  const replies: Reply[] = [];
  await run((reply) => void replies.push(reply));
  return replies;
}

/** The final reply, asserted to be of `kind`. */
export function last<K extends Reply['kind']>(
  replies: Reply[],
  kind: K,
): Extract<Reply, { kind: K }> {
  const reply = replies.at(-1);
  if (reply?.kind !== kind) {
    throw new Error(`expected a final ${kind} reply, got ${JSON.stringify(reply, brief)}`);
  }
  return reply as Extract<Reply, { kind: K }>;
}

// Keeps image bytes out of assertion messages.
const brief = (key: string, value: unknown): unknown => (key === 'image' ? '[image]' : value);
