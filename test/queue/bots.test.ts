/**
 * Two bot processes over one Redis: each is a command layer (job records, limits) over its own
 * RemoteEngine facade, with nothing shared in memory, so whatever one knows of the other's work
 * it must have read from Redis. They run in this test process, not as child processes: the
 * separation that matters (no shared JS objects, one shared store) holds, and the spawned
 * workers still make the images.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCommands, type Commands } from '../../src/commands/index.ts';
import type { Caller, Reply } from '../../src/commands/types.ts';
import { loadConfig } from '../../src/config.ts';
import type { RemoteEngine } from '../../src/queue/remote-engine.ts';
import { FIXTURES } from '../helpers/packs.ts';
import { REDIS_URL, uniqueName } from '../helpers/redis.ts';
import { loopback, type Loopback } from './harness.ts';

const PHOTO = new Uint8Array(readFileSync(join(FIXTURES, 'alignment', 'astronaut.png')));

/** Unique per run: the limit counters' keys are per user, not per queue. */
const RUN = uniqueName('bots');
const caller = (user: string, channelId = 'room'): Caller => ({
  userId: `bots-${RUN}-${user}`,
  platform: 'playground',
  channelId,
});

interface Bot {
  engine: RemoteEngine;
  commands: Commands;
}

/** One bot process: its own facade and command layer, on the loopback's Redis. */
async function bot(lb: Loopback): Promise<Bot> {
  const config = loadConfig({
    cwd: lb.modelsDir,
    env: {
      PASTICHE_MODELS_DIR: lb.modelsDir,
      PASTICHE_CACHE_URL: REDIS_URL,
      PASTICHE_ENGINE_MODE: 'queue',
      PASTICHE_QUEUE_NAME: lb.settings.name,
      // One running plus one queued per user; the other limits out of the way.
      PASTICHE_LIMITS_PER_USER_RUNNING: '1',
      PASTICHE_LIMITS_PER_USER_QUEUED: '1',
      PASTICHE_LIMITS_PER_USER_PER_HOUR: '100',
      PASTICHE_LIMITS_PER_CHANNEL_CONCURRENCY: '100',
      PASTICHE_LIMITS_GLOBAL_QUEUE: '10000',
    },
  });
  const engine = await lb.engine();
  const commands = await createCommands({ engine, config, onError: (e) => console.error(e) });
  return { engine, commands };
}

/** A command in flight: its replies so far, when it first replied, and when it ended. */
interface Pending {
  replies: Reply[];
  firstReply: Promise<Reply>;
  done: Promise<Reply[]>;
}

function send(run: (sink: (reply: Reply) => void) => Promise<void>): Pending {
  const replies: Reply[] = [];
  let first: (reply: Reply) => void = () => undefined;
  const firstReply = new Promise<Reply>((resolve) => (first = resolve));
  const done = run((reply) => {
    replies.push(reply);
    first(reply);
  }).then(() => replies);
  return { replies, firstReply, done };
}

function final<K extends Reply['kind']>(replies: Reply[], kind: K): Extract<Reply, { kind: K }> {
  const reply = replies.at(-1);
  if (reply?.kind !== kind) {
    const shown = JSON.stringify(reply, (k, v: unknown) => (k === 'image' ? '[image]' : v));
    throw new Error(`expected a final ${kind} reply, got ${shown}`);
  }
  return reply as Extract<Reply, { kind: K }>;
}

describe('queue mode: two bot processes over one Redis', { timeout: 120_000 }, () => {
  let lb: Loopback;
  let a: Bot;
  let b: Bot;
  const users = ['ann', 'bea', 'cy'];
  before(async () => {
    lb = await loopback();
    // A worker publishes the styles the bots list; each bot reads them when it connects.
    const publisher = await lb.startWorker();
    [a, b] = await Promise.all([bot(lb), bot(lb)]);
    assert.deepEqual(
      a.commands.styles().map((s) => s.name),
      ['demo-64'],
    );
    // No worker until the limits test has filled its slots: queued jobs stay in progress.
    publisher.kill('SIGKILL');
    await new Promise((resolve) => publisher.once('exit', resolve));
  });
  after(async () => {
    for (const { commands } of [a, b]) {
      for (const user of users) await commands.forget(caller(user), () => undefined);
      await commands.close();
    }
    await lb.close();
  });

  it('limits hold across two bot processes', async () => {
    const ann = caller('ann');
    const stylize = (bot: Bot, who: Caller): Pending =>
      send((sink) => bot.commands.stylize(who, { photo: PHOTO }, sink));

    // Ann's two slots (1 running + 1 queued), one taken through each bot.
    const first = stylize(a, ann);
    assert.equal((await first.firstReply).kind, 'status');
    const second = stylize(b, ann);
    assert.equal((await second.firstReply).kind, 'status');

    // A third through either bot is refused, with when to try again, and enqueues nothing.
    for (const via of [a, b]) {
      const refused = final(await stylize(via, ann).done, 'error');
      assert.equal(refused.code, 'user-busy');
      assert.ok((refused.retryAfterMs ?? 0) >= 1000, `a retry time: ${refused.retryAfterMs}`);
    }

    // Another user is not held up by Ann's limit, on either bot.
    const bea = stylize(b, caller('bea'));
    assert.equal((await bea.firstReply).kind, 'status');

    // A worker drains the queue: everything admitted completes, and Ann's slots free up.
    await lb.startWorker();
    for (const pending of [first, second, bea]) final(await pending.done, 'result');
    // The photo was encoded once, by whichever of Ann's jobs ran first: the stages of a
    // worker reach the bot, so the re-roll test below can tell a cache hit from an encode.
    const stages = [...first.replies, ...second.replies].map((r) => r.kind === 'status' && r.stage);
    assert.ok(stages.includes('encoding'), `an encoding stage in ${String(stages)}`);
    final(await stylize(b, ann).done, 'result');
  });

  it('re-rolls on one bot a result the other bot made, from the cached photo', async () => {
    const cy = caller('cy');
    const made = final(
      await send((sink) => a.commands.stylize(cy, { photo: PHOTO, exemplar: 2 }, sink)).done,
      'result',
    );
    // Bot B never saw this job: the record comes from Redis.
    assert.equal((await b.commands.job(made.jobId))?.face.kind, 'photo');

    const replies = await send((sink) =>
      b.commands.reroll(cy, { jobId: made.jobId, mode: 'style' }, sink),
    ).done;
    const rerolled = final(replies, 'result');
    // Queue positions may come first; of the engine's stages only generation ran: the face
    // code came from the shared cache, and no worker aligned or encoded the photo again.
    const stages = replies.flatMap((r) =>
      r.kind === 'status' && r.stage !== 'queued'
        ? [`${r.stage}${r.preview ? ' + preview' : ''}`]
        : [],
    );
    // The worker's preview crossed the queue too, as a 16² JPEG (a quarter of 64), before the result.
    assert.deepEqual(stages, ['generating', 'generating + preview']);
    const preview = replies.find((r) => r.kind === 'status' && r.preview);
    assert.ok(preview?.kind === 'status' && preview.preview);
    assert.deepEqual([preview.preview.format, preview.preview.width], ['jpeg', 16]);
    assert.ok(replies.indexOf(preview) < replies.indexOf(rerolled));
    assert.notDeepEqual(rerolled.image.bytes, made.image.bytes);
    const record = await a.commands.job(rerolled.jobId);
    assert.equal(record?.parentJobId, made.jobId, 'bot A reads the record bot B wrote');
    assert.equal(record?.style.kind, 'sampled');
  });
});
