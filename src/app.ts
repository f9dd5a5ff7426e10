/**
 * The composition root: configuration → style packs → engine → commands → adapters. `npm start`
 * (`pastiche start`) and the tests start Pastiche through {@link startApp}; nothing else wires
 * the layers together.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createCommands } from './commands/index.ts';
import type { Config } from './config.ts';
import type { Adapter, AdapterContext, AdapterSpec } from './bots/adapter.ts';
import { discordAdapter } from './bots/discord/index.ts';
import { playgroundAdapter } from './bots/playground/index.ts';
import { slackAdapter } from './bots/slack/index.ts';
import {
  DownloadError,
  Engine,
  type EngineApi,
  latentNamespace,
  listPacks,
  type PullEvent,
  pullStyles,
  type StyleInfo,
  writeDemoPacks,
} from './engine/index.ts';
import {
  readiness,
  startHealthServer,
  type HealthServer,
  type ReadyCheck,
} from './health-server.ts';
import { createLogger, lineLog, type Logger } from './log.ts';
import { Metrics } from './metrics.ts';

/** Every front end, started when its configuration enables it (see bots/adapter.ts). */
const ADAPTERS: readonly AdapterSpec[] = [playgroundAdapter, discordAdapter, slackAdapter];

const DEMO_SIZE = 256;
const MB = 1024 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface AppOptions {
  config: Config;
  /** The structured log; default one made from `config.logging` (secrets redacted). */
  logger?: Logger;
  /** Console lines (notices, progress); default `info` lines of `logger`. Given without
   * `logger`, the structured records come here too, as plain lines. */
  log?: (line: string) => void;
  /** On shutdown, how long running jobs may take to finish before they are cancelled. */
  shutdownGraceMs?: number;
}

export interface App {
  /** Each running adapter's address, by name (`playground` → `http://127.0.0.1:8788/`). */
  readonly urls: Readonly<Record<string, string>>;
  /** Set when a demo pack is installed: it has random weights, and how to get real styles. */
  readonly notice: string | undefined;
  /** This process's Prometheus metrics (also served on `/metrics` when `health.enabled`). */
  readonly metrics: Metrics;
  /** The `/healthz`, `/readyz`, `/metrics` server's address when `health.enabled`. */
  readonly healthUrl: string | undefined;
  /** Stops the adapters, lets running jobs finish (or cancels them), closes the stores. */
  close(): Promise<void>;
}

/** Says that demo packs are not portraits and how to install real styles. */
function demoNotice(demo: readonly StyleInfo[]): string | undefined {
  if (demo.length === 0) return undefined;
  const names = demo.map((s) => s.name).join(', ');
  return [
    `${names} ${demo.length > 1 ? 'are demo packs' : 'is a demo pack'} with RANDOM weights: its pictures are not portraits.`,
    'Install real styles with `npx pastiche models pull cartoon` (the official weights, non-commercial licence)',
    'or `npx pastiche models import <dir>` (official checkpoints you already have), then restart.',
  ].join('\n');
}

/** One console line per file (and every 10 s while a large one downloads). */
function pullLog(log: (line: string) => void): (event: PullEvent) => void {
  let lastProgress = 0;
  return (event) => {
    if (event.type === 'licence') log(event.text);
    if (event.type === 'planned')
      log(`${event.files.length} files, ${Math.round(event.totalBytes / MB)} MB`);
    if (event.type === 'file-done') log(`  ${event.file.path}: ${event.outcome.status}`);
    if (event.type === 'import') log(`  importing ${event.pack} …`);
    if (event.type === 'file-progress' && performance.now() - lastProgress > 10_000) {
      lastProgress = performance.now();
      const { received, total } = event.progress;
      const share = total ? ` (${Math.round((100 * received) / total)}%)` : '';
      log(`  ${event.file.path}: ${Math.round(received / MB)} MB${share}`);
    }
  };
}

/**
 * Makes sure a style is installed: the configured default style from the hub, else (offline, or
 * the hub refuses) the demo pack, which needs no download.
 */
async function ensureStyles(config: Config, log: (line: string) => void): Promise<void> {
  if (listPacks(config.modelsDir).some((p) => p.manifest.kind === 'style')) return;
  const style = config.models.defaultStyle;
  log(
    `No style pack in ${config.modelsDir}; downloading "${style}" from ${config.models.hubUrl} …`,
  );
  try {
    await pullStyles({
      hubUrl: config.models.hubUrl,
      repo: config.models.repo,
      styles: [style],
      downloadsDir: config.models.downloadsDir,
      out: config.modelsDir,
      onEvent: pullLog(log),
    });
    return;
  } catch (error) {
    if (!(error instanceof DownloadError)) throw error;
    log(`Could not download "${style}": ${error.message}`);
  }
  log(`Building the demo pack (demo-${DEMO_SIZE}) instead; it needs no download …`);
  await writeDemoPacks(config.modelsDir, DEMO_SIZE);
}

/**
 * The local engine, as configured; `pastiche worker` runs one too. Its models load in a child
 * process (the inference host), so neither the bot nor a worker's BullMQ lock renewal waits on
 * them.
 */
export function createEngine(
  config: Config,
  log: (line: string) => void = console.error,
): Promise<Engine> {
  const { engine, cache } = config;
  if (cache.url.startsWith('sqlite://')) {
    const file = cache.url.slice('sqlite://'.length);
    if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
  }
  return Engine.create({
    modelsDir: config.modelsDir,
    cacheUrl: cache.url,
    cacheTtlMs: cache.ttlDays * DAY_MS,
    cacheNamespace: latentNamespace(cache.keyPrefix),
    // 0 means "one thread per core", which is the engine's own default.
    ...(engine.threads > 0 && { threads: engine.threads }),
    device: engine.device,
    memoryBudgetBytes: engine.memoryBudgetMb * MB,
    warmup: engine.warmup,
    preview: engine.preview,
    maxQueue: engine.maxQueue,
    jobTimeoutMs: engine.jobTimeoutS * 1000,
    maxBatch: engine.maxBatch,
    encoder: engine.encoder,
    photo: { ...config.photo },
    face: { minFaceSize: config.face.minSize },
    maxFaces: config.face.maxFaces,
    pasteMaxSide: config.face.pasteMaxSide,
    keepPhotosMs: config.privacy.keepPhotosMinutes * 60_000,
    log,
  });
}

/**
 * `engine.mode: local` loads the models here; `queue` sends jobs to `pastiche worker`s through
 * Redis and never loads a model (the workers install the styles).
 */
async function chooseEngine(config: Config, log: (line: string) => void): Promise<EngineApi> {
  if (config.engine.mode === 'local') {
    await ensureStyles(config, log);
    return createEngine(config, log);
  }
  const { RemoteEngine } = await import('./queue/remote-engine.ts');
  const { queueSettings } = await import('./queue/settings.ts');
  return RemoteEngine.create({ ...queueSettings(config), cacheUrl: config.cache.url });
}

/** The configured default style when installed, else a real style, else any. */
function defaultPack(config: Config, styles: readonly StyleInfo[]): string | undefined {
  const preferred =
    styles.find((s) => s.name === config.models.defaultStyle) ??
    styles.find((s) => !s.demo) ??
    styles[0];
  return preferred?.name;
}

/**
 * Starts Pastiche: installs a style if there is none, then the engine, the commands and every
 * enabled adapter.
 *
 * @example
 * const app = await startApp({ config: loadConfig() });
 * console.log(app.urls.playground);
 * process.once('SIGTERM', () => void app.close());
 */
export async function startApp(options: AppOptions): Promise<App> {
  const { config } = options;
  // A caller that passes only `log` (tests, embedding) gets the structured records there too.
  const logger =
    options.logger ??
    (options.log
      ? loggerFor(config, { write: (l) => options.log!(l.trimEnd()) })
      : loggerFor(config));
  const log = options.log ?? lineLog(logger);
  const engine = await chooseEngine(config, log);
  const metrics = new Metrics(engine.health && (() => engine.health!()));
  const styles = engine.styles();
  const notice = demoNotice(styles.filter((s) => s.demo));
  if (notice) log(`\n${'─'.repeat(72)}\n${notice}\n${'─'.repeat(72)}\n`);

  const onError = (error: unknown, requestId?: string): void =>
    logger.error({ err: error, ...(requestId !== undefined && { requestId }) }, 'internal error');
  const commands = await createCommands({
    engine,
    config,
    metrics,
    onError,
    logger: logger.child({ component: 'commands' }),
  }).catch(async (error: unknown) => {
    await engine.close();
    throw error;
  });
  const pack = defaultPack(config, styles);
  const adapters: Adapter[] = [];
  let adaptersUp = false;
  const engineHealth = engine.health && (() => engine.health!());
  const checks: Record<string, ReadyCheck> = {
    // Every enabled front end started, and each still connected.
    adapters: () => adaptersUp && adapters.every((a) => a.ready()),
    // Local: the default style is loaded in a running inference host. Queue: Redis answers
    // and some worker has published its styles.
    engine: () => {
      const h = engine.health?.();
      if (!h) return engine.styles().length > 0;
      if (h.state === 'remote') return h.redisReady === true && engine.styles().length > 0;
      return h.state === 'ready' && (pack === undefined || h.packs.includes(pack));
    },
  };
  let health: HealthServer | undefined;
  if (config.health.enabled) {
    health = await startHealthServer({
      host: config.health.host,
      port: config.health.port,
      metrics,
      ready: checks,
      ...(engineHealth && { state: engineHealth }),
    }).catch(async (error: unknown) => {
      await commands.close();
      await engine.close();
      throw error;
    });
    log(`health: ${health.url}healthz, ${health.url}readyz, ${health.url}metrics`);
  }
  const ctx: AdapterContext = {
    config,
    commands,
    notice,
    defaultPack: pack,
    log,
    logger,
    health: engineHealth,
    ready: () => readiness(checks),
  };
  const urls: Record<string, string> = {};
  try {
    for (const spec of ADAPTERS.filter((a) => a.enabled(config))) {
      const adapter = await spec.start(ctx);
      adapters.push(adapter);
      if (adapter.url) urls[adapter.name] = adapter.url;
    }
  } catch (error) {
    await Promise.allSettled(adapters.map((a) => a.close()));
    await health?.close();
    await commands.close();
    await engine.close();
    throw error;
  }
  adaptersUp = true;

  // Loading (and warming up) the default style now makes the first request as fast as the rest;
  // it runs in the inference host behind the already-listening adapters, so the page is up at
  // once and a command sent meanwhile is answered ("warming up") and runs when the pack is ready.
  const preload = pack
    ? engine.preload(pack).catch((error: unknown) => {
        if (!closing) log(`could not load ${pack}: ${String(error)}`);
      })
    : Promise.resolve();

  let closing: Promise<void> | undefined;
  return {
    urls,
    notice,
    metrics,
    healthUrl: health?.url,
    close() {
      closing ??= (async () => {
        await Promise.all(adapters.map((a) => a.stop()));
        await commands.close({ graceMs: options.shutdownGraceMs ?? 10_000 });
        // A preload still running is in the inference host, which closing the engine stops.
        await engine.close();
        await preload;
        await Promise.all(adapters.map((a) => a.close()));
        await health?.close();
      })();
      return closing;
    },
  };
}

/** The process's logger, as configured; the tokens and signing secret are scrubbed from it. */
export function loggerFor(config: Config, lines?: { write(line: string): unknown }): Logger {
  return createLogger({
    level: config.logging.level,
    format: lines ? 'plain' : config.logging.format,
    // The application id is public (it is in the invite URL the bot logs); the rest are secrets.
    secrets: Object.entries(config.secrets).flatMap(([k, v]) => (k === 'discordAppId' ? [] : [v])),
    ...(lines && { destination: lines }),
  });
}
