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
import { Engine } from '../../src/engine/engine.ts';
import { writeDemoPacks } from '../../src/engine/pack/demo-packs.ts';
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
  #engine!: Engine;
  #bot!: SlackBot;
  commands!: Commands;

  private constructor(
    readonly fake: FakeSlack,
    readonly config: Config,
  ) {}

  /**
   * Demo packs, engine, commands, fake Slack and the app, in `dir`. Call {@link close} from the
   * suite's `after` (a hook registered inside `before` would run at once).
   */
  static async start(dir: string): Promise<Harness> {
    const models = join(dir, 'models');
    await writeDemoPacks(models, 64);
    const config = loadConfig({
      cwd: dir,
      env: {
        PASTICHE_MODELS_DIR: models,
        PASTICHE_MODELS_DEFAULT_STYLE: PACK,
        PASTICHE_CACHE_URL: `sqlite://${join(dir, 'cache.sqlite')}`,
        PASTICHE_SLACK_SOCKET_MODE: 'false',
        PASTICHE_ENGINE_THREADS: '2',
      },
    });
    const harness = new Harness(await FakeSlack.start(BOT_TOKEN), config);
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

  /** Sends a signed request to the app (or one signed as `signing` says). */
  send([body, type]: [string, string], signing: Partial<Signing> = {}) {
    return postSigned(this.url, body, type, { secret: SIGNING_SECRET, ...signing });
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
    });
    this.commands = await createCommands({
      engine: this.#engine,
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
      log: (line) => this.logs.push(line),
    });
  }

  async #close(): Promise<void> {
    await this.#bot.stop();
    await this.commands.close();
    await this.#engine.close();
  }
}
