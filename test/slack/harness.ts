/**
 * The real Bolt app (HTTP receiver, signature checks on) over the real commands and engine on
 * the 64 px demo pack, talking to a {@link FakeSlack}. `restart()` replaces engine, commands and
 * app with new ones on the same SQLite file, as a process restart would.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCommands, type Commands } from '../../src/commands/index.ts';
import { startSlack, type SlackBot } from '../../src/bots/slack/index.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { EventEmitter } from 'node:events';
import { Engine, type EngineApi, type StylizeResult } from '../../src/engine/engine.ts';
import type { StylizeRequest } from '../../src/engine/request.ts';
import { UserError } from '../../src/engine/errors.ts';
import type { JobEvents, JobHandle } from '../../src/engine/scheduler/types.ts';
import { installDemoPacks } from '../helpers/demo-packs.ts';
import { FIXTURES } from '../helpers/packs.ts';
import { FakeSlack } from './fake-slack.ts';
import { postSigned, type Signing } from './signed.ts';

export const PACK = 'demo-64';
export const BOT_TOKEN = 'xoxb-test-token';
export const SIGNING_SECRET = 'test-signing-secret';

/** The Slack file object of a photo the fake serves (as messages and modals carry it). */
export interface TestFile {
  id: string;
  name: string;
  mimetype: string;
  size: number;
  url_private: string;
  url_private_download: string;
}

export class Harness {
  readonly logs: string[] = [];
  /** Every request the commands submitted to the engine, in order. */
  readonly requests: StylizeRequest[] = [];
  #engine!: Engine;
  /** While set, results of jobs submitted are held back until it resolves. */
  #hold: Promise<void> | undefined;
  #bot!: SlackBot;
  commands!: Commands;

  private constructor(
    readonly fake: FakeSlack,
    readonly config: Config,
    private readonly statusIntervalMs: number,
  ) {}

  /**
   * Demo packs, engine, commands, fake Slack and the app, in `dir`. Call {@link close} from the
   * suite's `after` (a hook registered inside `before` would run at once).
   */
  static async start(
    dir: string,
    {
      statusIntervalMs = 0,
      env = {},
    }: { statusIntervalMs?: number; env?: Record<string, string> } = {},
  ): Promise<Harness> {
    const models = join(dir, 'models');
    await installDemoPacks(models, 64);
    const config = loadConfig({
      cwd: dir,
      env: {
        PASTICHE_MODELS_DIR: models,
        PASTICHE_MODELS_DEFAULT_STYLE: PACK,
        PASTICHE_CACHE_URL: `sqlite://${join(dir, 'cache.sqlite')}`,
        PASTICHE_SLACK_SOCKET_MODE: 'false',
        PASTICHE_ENGINE_THREADS: '2',
        ...env,
      },
    });
    const harness = new Harness(await FakeSlack.start(BOT_TOKEN), config, statusIntervalMs);
    for (const name of ['astronaut.png', 'no_face_cat.png']) {
      harness.fake.files.set(name, new Uint8Array(readFileSync(join(FIXTURES, 'alignment', name))));
    }
    await harness.#open();
    return harness;
  }

  /** `/slack/events` of the running app. */
  get url(): string {
    return `http://127.0.0.1:${this.#bot.port}/slack/events`;
  }

  /** Sends a signed request to the app (or one signed as `signing` says, or retried). */
  send([body, type]: [string, string], signing: Partial<Signing> = {}) {
    return postSigned(this.url, body, type, { secret: SIGNING_SECRET, ...signing });
  }

  /** Waits until the app logged a line matching `pattern`. */
  async logged(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.logs.find((l) => pattern.test(l));
      if (line) return line;
      if (Date.now() > deadline) throw new Error(`nothing logged matching ${pattern}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** A Slack Connect file as events carry it: its id only (files.info has the rest). */
  connectFile(name: string): { id: string; file_access: 'check_file_info' } {
    const id = `F_CONNECT_${name}`;
    this.fake.connectFiles.set(id, { ...this.file(name), id, file_access: 'visible' });
    return { id, file_access: 'check_file_info' };
  }

  file(name: string): TestFile {
    const url = this.fake.fileUrl(name);
    const size = this.fake.files.get(name)?.length ?? 0;
    return {
      id: `F_${name}`,
      name,
      mimetype: 'image/png',
      size,
      url_private: url,
      url_private_download: url,
    };
  }

  /**
   * Holds back the results of jobs submitted from now on, so a test can act on a job that is
   * still in progress (a 64 px job takes milliseconds). Cancelling a held job works as the
   * scheduler's own cancel does. Returns the release.
   */
  holdJobs(): () => void {
    let release = (): void => undefined;
    this.#hold = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.#hold = undefined;
      release();
    };
  }

  async restart(): Promise<void> {
    await this.#close();
    await this.#open();
  }

  async close(): Promise<void> {
    await this.#close();
    await this.fake.close();
  }

  async #open(): Promise<void> {
    const { config } = this;
    this.#engine = await Engine.create({
      modelsDir: config.modelsDir,
      cacheUrl: config.cache.url,
      threads: config.engine.threads,
      // As startApp does: photos are kept for a whole photo as the privacy setting says.
      keepPhotosMs: config.privacy.keepPhotosMinutes * 60_000,
    });
    const engine = this.#engine;
    // As startApp does: the inference host loads the pack before the first test's clock starts.
    await engine.preload(PACK);
    const api: EngineApi = {
      submit: (request) => {
        this.requests.push(request);
        const job = engine.submit(request);
        return this.#hold ? held(job, this.#hold) : job;
      },
      stylize: (request) => engine.stylize(request),
      styles: () => engine.styles(),
      forget: (user) => engine.forget(user),
      preload: (pack) => engine.preload(pack),
      close: () => engine.close(),
    };
    this.commands = await createCommands({
      engine: api,
      config,
      onError: (e) => this.logs.push(String(e)),
    });
    this.#bot = await startSlack({
      commands: this.commands,
      config,
      botToken: BOT_TOKEN,
      signingSecret: SIGNING_SECRET,
      port: 0,
      host: '127.0.0.1',
      slackApiUrl: this.fake.apiUrl,
      statusIntervalMs: this.statusIntervalMs,
      log: (line) => this.logs.push(line),
    });
  }

  async #close(): Promise<void> {
    await this.#bot.stop();
    await this.commands.close();
    await this.#engine.close();
  }
}

/** `job`, its result held until `gate` opens; `cancel` ends it at once, as the scheduler's does. */
function held(job: JobHandle<StylizeResult>, gate: Promise<void>): JobHandle<StylizeResult> {
  const emitter = new EventEmitter<JobEvents<StylizeResult>>();
  for (const event of ['queued', 'started', 'stage'] as const) {
    job.on(event, (...args: unknown[]) => emitter.emit(event, ...(args as [never])));
  }
  let cancel = (): void => undefined;
  const cancelled = new Promise<'cancelled'>((resolve) => (cancel = () => resolve('cancelled')));
  let settled = false;
  const result = (async () => {
    try {
      const value = await job.result;
      if ((await Promise.race([gate, cancelled])) === 'cancelled') throw new UserError('cancelled');
      return value;
    } finally {
      settled = true;
    }
  })();
  result.catch(() => undefined);
  return Object.assign(emitter, {
    id: job.id,
    result,
    cancel: () => {
      if (settled) return false;
      job.cancel();
      cancel();
      return true;
    },
  });
}
