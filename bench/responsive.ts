/**
 * `npm run bench:responsive`: does the bot keep answering while it paints? On the demo pack
 * (default 1024 px; RESPONSIVE_SIZE=256 for a quick run), with the playground and the Discord
 * adapter (against the fake Discord of test/discord) started on one engine:
 *
 * - start-up: the pack preloads while adapters already listen;
 * - busy: RESPONSIVE_JOBS (default 4) photo jobs queued at once from different users, then a
 *   re-roll of the first.
 *
 * In both phases it records the event-loop delay (perf_hooks.monitorEventLoopDelay, p99/max), the
 * latency of `GET /api/state` on the playground polled every 50 ms, and (busy only) the time from
 * a Discord interaction (/help) being dispatched on the fake gateway to the bot's callback (its
 * ack/defer), one every 250 ms. Also: each job's end-to-end time, the re-roll's, and peak RSS of
 * this process and of the inference host (VmHWM).
 *
 * RESPONSIVE_SRC=/path/to/other/checkout runs the same measurement on that checkout's engine,
 * commands and adapters (e.g. the in-process engine before the inference host), for a
 * comparison in one sitting.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as AppModule from '../src/app.ts';
import type * as CommandsModule from '../src/commands/index.ts';
import type * as ConfigModule from '../src/config.ts';
import type * as DiscordModule from '../src/bots/discord/index.ts';
import type * as EngineModule from '../src/engine/engine.ts';
import type * as DemoModule from '../src/engine/pack/demo-packs.ts';
import type * as PlaygroundModule from '../src/bots/playground/server.ts';
import type { Reply } from '../src/commands/types.ts';
import type { DemoSize } from '../src/engine/pack/demo-packs.ts';
import { FakeDiscord, snowflake, user } from '../test/discord/fake-discord.ts';
import { slash } from '../test/discord/payloads.ts';

/** 64, 256 or 1024: the sizes demo packs come in. */
function demoSize(text: string): DemoSize {
  const size = Number(text);
  if (size !== 64 && size !== 256 && size !== 1024)
    throw new RangeError(`no demo pack of ${text} px`);
  return size;
}

const SIZE = demoSize(process.env.RESPONSIVE_SIZE ?? '1024');
const JOBS = Number(process.env.RESPONSIVE_JOBS ?? 4);
const SRC = resolve(process.env.RESPONSIVE_SRC ?? join(import.meta.dirname, '..'));
const PACKS = resolve(join(import.meta.dirname, '.packs', String(SIZE)));
const FIXTURES = join(import.meta.dirname, '..', 'test', 'fixtures', 'alignment');
const PHOTOS = [
  'astronaut.png',
  'yRpe13BHdKw.jpg',
  'i5R8hbZFDdc.jpg',
  'pexels-andrea-piacquadio-733872.jpg',
];

const load = <T>(path: string): Promise<T> => import(join(SRC, path)) as Promise<T>;
const { createEngine } = await load<typeof AppModule>('src/app.ts');
const { createCommands } = await load<typeof CommandsModule>('src/commands/index.ts');
const { loadConfig } = await load<typeof ConfigModule>('src/config.ts');
const { startDiscord } = await load<typeof DiscordModule>('src/bots/discord/index.ts');
const { startPlayground } = await load<typeof PlaygroundModule>('src/bots/playground/server.ts');
const { writeDemoPacks } = await load<typeof DemoModule>('src/engine/pack/demo-packs.ts');
type Engine = Awaited<ReturnType<typeof EngineModule.Engine.create>>;

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const ms = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : '–');

/** Peak resident memory of a process, from /proc (Linux). */
function peakRssMb(pid: number | 'self'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** Polls `url` every 50 ms (one request at a time) until stopped; returns latencies. */
let failures = 0;
function probe(url: string): { stop: () => Promise<number[]> } {
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const start = performance.now();
      // A reset connection (the server could not answer in time) counts with its wait.
      await fetch(url)
        .then((res) => res.arrayBuffer())
        .catch(() => failures++);
      latencies.push(performance.now() - start);
      await sleep(50);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return latencies;
    },
  };
}

if (!existsSync(join(PACKS, `demo-${SIZE}`))) {
  console.log(`building the demo-${SIZE} pack in ${PACKS} …`);
  await writeDemoPacks(PACKS, SIZE);
}
const dir = mkdtempSync(join(tmpdir(), 'pastiche-responsive-'));
const config = loadConfig({
  cwd: dir,
  env: {
    PASTICHE_MODELS_DIR: PACKS,
    PASTICHE_MODELS_DEFAULT_STYLE: `demo-${SIZE}`,
    PASTICHE_CACHE_URL: 'memory',
    PASTICHE_DISCORD_CDN_HOSTS: '127.0.0.1',
    PASTICHE_LIMITS_PER_USER_PER_HOUR: '1000',
  },
});
const logs: string[] = [];
const log = (line: string) => void logs.push(line);

const loopStartup = monitorEventLoopDelay({ resolution: 1 });
loopStartup.enable();
const engine: Engine = await createEngine(config);
const commands = await createCommands({ engine, config, onError: (e) => log(String(e)) });
const playground = await startPlayground({
  commands,
  host: '127.0.0.1',
  port: 0,
  maxBytes: config.photo.maxBytes,
  log,
});
const fake = await FakeDiscord.start();
const bot = await startDiscord({
  commands,
  config,
  token: 'bot-token',
  appId: fake.appId,
  rest: { api: fake.api, cdn: `${fake.base}/cdn` },
  insecureDownloads: true,
  log,
});
const stateUrl = new URL('/api/state', playground.url).href;

// Start-up: the pack loads (and warms up) while the adapters already listen.
let probing = probe(stateUrl);
const t0 = performance.now();
await engine.preload(`demo-${SIZE}`);
const preloadMs = performance.now() - t0;
loopStartup.disable();
const startupHttp = await probing.stop();

// Busy: JOBS photo jobs queued at once, then a re-roll; Discord interactions meanwhile.
const loopBusy = monitorEventLoopDelay({ resolution: 1 });
loopBusy.enable();
probing = probe(stateUrl);
const defers: number[] = [];
let interacting = true;
const discord = (async () => {
  const who = user(snowflake(), 'prober');
  while (interacting) {
    const from = fake.requests.length;
    const dispatched = Date.now();
    const sent = slash(fake, who, 'help', []);
    const ack = await fake.waitFor(
      (r) => r.method === 'POST' && r.path.startsWith(`/interactions/${sent.id}/`),
      // Long: the in-process engine (RESPONSIVE_SRC) may not answer for many seconds.
      { from, timeoutMs: 300_000 },
    );
    defers.push(ack.at - dispatched);
    await sleep(250);
  }
})();
const jobMs: number[] = [];
const results: string[] = [];
const busyStart = performance.now();
await Promise.all(
  Array.from({ length: JOBS }, async (_, i) => {
    const start = performance.now();
    const replies: Reply[] = [];
    await commands.stylize(
      { userId: `user${i}`, platform: 'playground', channelId: `room${i}` },
      { photo: new Uint8Array(readFileSync(join(FIXTURES, PHOTOS[i % PHOTOS.length]!))) },
      (reply) => void replies.push(reply),
    );
    jobMs.push(performance.now() - start);
    const last = replies.at(-1);
    if (last?.kind !== 'result') throw new Error(`job ${i} ended with ${JSON.stringify(last)}`);
    results.push(last.jobId);
  }),
);
const rerollStart = performance.now();
const rerollReplies: Reply[] = [];
await commands.reroll(
  { userId: 'user0', platform: 'playground', channelId: 'room0' },
  { jobId: results[0]!, mode: 'exemplar' },
  (reply) => void rerollReplies.push(reply),
);
const rerollMs = performance.now() - rerollStart;
if (rerollReplies.at(-1)?.kind !== 'result') throw new Error('the re-roll failed');
const busyMs = performance.now() - busyStart;
interacting = false;
await discord;
loopBusy.disable();
const busyHttp = await probing.stop();

const health = (engine as Partial<Pick<EngineModule.Engine, 'health'>>).health?.();
const hostPeak = health?.pid ? peakRssMb(health.pid) : undefined;
const mainPeak = peakRssMb('self');

await bot.stop();
await playground.stop();
await commands.close();
await engine.close();
await bot.close();
await playground.close();
await fake.close();
rmSync(dir, { recursive: true, force: true });

const loopRow = (name: string, h: ReturnType<typeof monitorEventLoopDelay>) =>
  `| ${name} | ${ms(h.percentile(50) / 1e6)} | ${ms(h.percentile(99) / 1e6)} | ${ms(h.max / 1e6)} |`;
const row = (name: string, values: number[]) =>
  `| ${name} (${values.length}) | ${ms(percentile(values, 50))} | ${ms(percentile(values, 99))} | ${ms(Math.max(...values))} |`;
console.log(
  `\nresponsive: demo-${SIZE}, ${JOBS} jobs queued at once + 1 re-roll, engine from ${SRC}`,
);
console.log(`${process.env.RESPONSIVE_NOTE ?? ''}\n`);
console.log('| while … | p50 ms | p99 ms | max ms |');
console.log('|---|---|---|---|');
console.log(loopRow('start-up: event-loop delay', loopStartup));
console.log(row('start-up: GET /api/state', startupHttp));
console.log(loopRow('busy: event-loop delay', loopBusy));
console.log(row('busy: GET /api/state', busyHttp));
console.log(row('busy: Discord interaction → ack', defers));
console.log('');
console.log(
  `preload ${ms(preloadMs)} ms; busy window ${ms(busyMs)} ms; failed probe requests: ${failures}`,
);
console.log(
  `end-to-end per job (queued together): ${jobMs.map(ms).join(', ')} ms; re-roll ${ms(rerollMs)} ms`,
);
console.log(
  `peak RSS: main ${ms(mainPeak)} MB${hostPeak !== undefined ? `, inference host ${ms(hostPeak)} MB` : ''}`,
);
if (health) console.log(`health at the end: ${JSON.stringify(health)}`);
