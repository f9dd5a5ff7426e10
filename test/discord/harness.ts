/**
 * One bot for a test file: the 64 px demo pack, a real Engine and command layer over a temporary
 * SQLite store, the fake Discord, and the adapter started against it with the real discord.js.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { APIMessage, APIUser } from 'discord.js';
import sharp from 'sharp';
import { startDiscord, type DiscordBot } from '../../src/bots/discord/index.ts';
import { createCommands, type Commands } from '../../src/commands/index.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { Engine, type EngineApi } from '../../src/engine/engine.ts';
import type { StylizeRequest } from '../../src/engine/request.ts';
import { installDemoPacks } from '../helpers/demo-packs.ts';
import { FIXTURES, tempDir } from '../helpers/packs.ts';
import { FakeDiscord, snowflake, user, type RecordedRequest } from './fake-discord.ts';
import { attachment } from './payloads.ts';

export const PACK = 'demo-64';
/** Small, so a test can reach it; every test uses its own users to stay under it. */
export const PER_HOUR = 4;

export const photoBytes = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(join(FIXTURES, 'alignment', name)));

export interface Harness {
  fake: FakeDiscord;
  config: Config;
  commands: Commands;
  bot: DiscordBot;
  logs: string[];
  /** Every request the command layer sent the engine, in order. */
  submitted: StylizeRequest[];
  /** The users whose hourly quota the adapter gave back, in order. */
  refunds: string[];
  /** Stops the bot and starts a new one on the same stores, as a process restart would. */
  restart(): Promise<void>;
  /** A fresh user of the fake guild. */
  person(name: string): APIUser;
  /** An attachment of a fixture photo served by the fake CDN. */
  cdnPhoto(name: string): ReturnType<typeof attachment>;
}

/**
 * Sets the harness up before the file's tests and tears it down after. `perHour`: the hourly
 * limit, for a file whose users run more than {@link PER_HOUR} pictures (a grid counts 4).
 */
export function useHarness({ perHour = PER_HOUR } = {}): Harness {
  const h = {} as Harness;
  // Hooks registered at the top level: inside `before`, they would run when it ends.
  const dir = tempDir('discord');
  let engine: Engine | undefined;
  after(async () => {
    await h.bot?.close();
    await h.fake?.close();
    await h.commands?.close();
    await engine?.close();
  });
  before(async () => {
    await installDemoPacks(join(dir, 'models'), 64);
    h.config = loadConfig({
      cwd: dir,
      env: {
        PASTICHE_MODELS_DIR: join(dir, 'models'),
        PASTICHE_MODELS_DEFAULT_STYLE: PACK,
        PASTICHE_CACHE_URL: `sqlite://${join(dir, 'cache.sqlite')}`,
        PASTICHE_DISCORD_CDN_HOSTS: '127.0.0.1',
        PASTICHE_LIMITS_PER_USER_PER_HOUR: String(perHour),
        PASTICHE_ENGINE_WARMUP: 'false',
      },
    });
    engine = await Engine.create({
      modelsDir: h.config.modelsDir,
      cacheUrl: h.config.cache.url,
      warmup: false,
      threads: 2,
    });
    // As startApp does: the inference host loads the pack before the first test's clock starts.
    await engine.preload(PACK);
    h.submitted = [];
    const real = engine;
    const recording: EngineApi = {
      submit: (request) => (h.submitted.push(request), real.submit(request)),
      stylize: (request) => real.stylize(request),
      styles: () => real.styles(),
      forget: (userId) => real.forget(userId),
      preload: (name) => real.preload(name),
      close: () => real.close(),
    };
    const commands = await createCommands({
      engine: recording,
      config: h.config,
      onError: (e) => h.logs.push(String(e)),
    });
    h.refunds = [];
    h.commands = {
      ...commands,
      async refundQuota(caller) {
        h.refunds.push(caller.userId);
        await commands.refundQuota(caller);
      },
    };
    h.fake = await FakeDiscord.start();
    h.logs = [];
    const start = (): Promise<DiscordBot> =>
      startDiscord({
        commands: h.commands,
        config: h.config,
        token: 'bot-token',
        appId: h.fake.appId,
        rest: { api: h.fake.api, cdn: `${h.fake.base}/cdn` },
        insecureDownloads: true,
        log: (line) => h.logs.push(line),
      });
    h.bot = await start();
    h.restart = async () => {
      await h.bot.stop();
      await h.bot.close();
      h.bot = await start();
    };
    h.person = (name) => user(snowflake(), name);
    h.cdnPhoto = (name) => {
      const bytes = photoBytes(name);
      const url = h.fake.serve(`/cdn/attachments/${snowflake()}/${snowflake()}/${name}`, bytes);
      return attachment(url, bytes, name);
    };
  });
  return h;
}

const BASE = '/interactions/';
export const isCallback = (id: string) => (r: RecordedRequest) =>
  r.method === 'POST' && r.path.startsWith(`${BASE}${id}/`) && r.path.endsWith('/callback');
export const isEdit = (token: string) => (r: RecordedRequest) =>
  r.method === 'PATCH' && r.path.endsWith(`/${token}/messages/@original`);
export const isFollowUp = (token: string) => (r: RecordedRequest) =>
  r.method === 'POST' && r.path.endsWith(`/${token}`);
/** A request that carries a result's picture (a status edit may carry the job's preview). */
export const withFile = (r: RecordedRequest): boolean =>
  r.files.some((file) => !file.name.startsWith('preview-'));

/** The custom ids of a message's buttons, from a recorded request body. */
export function buttonIds(r: RecordedRequest | APIMessage): string[] {
  const components = ('body' in r ? r.body?.components : r.components) as
    { components: { custom_id: string }[] }[] | undefined;
  return (components ?? []).flatMap((row) => row.components.map((c) => c.custom_id));
}

/** Checks that a request carries a JPEG the engine made at the demo pack's 64 px. */
export async function assertResultImage(r: RecordedRequest): Promise<void> {
  const file = r.files[0];
  assert.ok(file, `no file in ${r.method} ${r.path}`);
  const meta = await sharp(file.bytes).metadata();
  assert.equal(meta.format, 'jpeg');
  assert.equal(meta.width, 64);
  assert.equal(meta.height, 64);
}

/** The request the engine was sent for `who`'s latest job. */
export function lastRequest(h: Harness, who: APIUser): StylizeRequest {
  const mine = h.submitted.filter((r) => r.userId === `discord:${who.id}`);
  const last = mine.at(-1);
  assert.ok(last, `no request of ${who.username}`);
  return last;
}

/** The buttons of a crop result of a photo, in order: re-rolls, 🔀, delete, whole photo. */
export const cropButtons = (jobId: string): string[] => [
  `reroll:style:${jobId}`,
  `reroll:structure:${jobId}`,
  `reroll:color:${jobId}`,
  `reroll:fuse:${jobId}`,
  `delete:${jobId}`,
  `whole:${jobId}`,
];

/** The job id in a result's buttons. */
export function jobIdOf(r: RecordedRequest | APIMessage): string {
  const id = buttonIds(r).find((b) => b.startsWith('delete:'));
  assert.ok(id, 'the result has no delete button');
  return id.slice('delete:'.length);
}
