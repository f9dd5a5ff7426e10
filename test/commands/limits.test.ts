/** Limits: jobs in progress per user and per channel, the hourly allowance, global backpressure. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Reply } from '../../src/commands/types.ts';
import { tempDir } from '../helpers/packs.ts';
import { privateRedis } from '../helpers/redis.ts';
import type { Engine } from '../../src/engine/engine.ts';
import { caller, collect, demoModels, last, photo, start, testEngine, type Rig } from './setup.ts';

const astronaut = photo('astronaut.png');
type Ask = { user: string; channel?: string };

/** Starts every request at once (so none has finished when the last is admitted). */
async function together(rig: Rig, asks: Ask[]): Promise<Reply[][]> {
  return Promise.all(
    asks.map(({ user, channel }) =>
      collect((sink) =>
        rig.commands.stylize(caller(user, channel), { photo: astronaut, exemplar: 1 }, sink),
      ),
    ),
  );
}

const finals = (all: Reply[][]): Reply[] => all.map((replies) => replies.at(-1)!);
const refusals = (all: Reply[][]) => finals(all).flatMap((r) => (r.kind === 'error' ? [r] : []));

/** Jobs in progress per user: 1 running + 2 queued; a third queued job is refused. */
async function userLimit(rig: Rig): Promise<void> {
  const all = await together(rig, [
    { user: 'alice' },
    { user: 'alice' },
    { user: 'alice' },
    { user: 'alice' },
    { user: 'bob' },
  ]);
  const [refused, ...more] = refusals(all);
  assert.equal(more.length, 0, 'only one request is refused');
  assert.equal(refused?.code, 'user-busy');
  assert.ok(refused.retryAfterMs && refused.retryAfterMs >= 1000, 'says when to try again');
  assert.match(
    refused.text,
    /as many jobs in progress as allowed.*Try again in (about \d+ s|~\d+ min)\./,
  );
  assert.equal(all[4]!.at(-1)?.kind, 'result', 'another user still gets through');
  const queued = all.flat().filter((r) => r.kind === 'status' && r.stage === 'queued');
  assert.ok(
    queued.some((r) => r.kind === 'status' && r.position === 1 && /#1 in line/.test(r.text)),
  );
  // Finished jobs give their slots back.
  last(
    await collect((sink) => rig.commands.stylize(caller('alice'), { exemplar: 2 }, sink)),
    'result',
  );
}

describe('commands: limits', { timeout: 300_000 }, () => {
  const dir = tempDir('limits');
  let models: string;
  // The limits live in the commands layer: the in-memory rigs share one engine (one host).
  let engine: Engine | undefined;
  const rigs: Rig[] = [];
  const rig = async (env: Record<string, string>): Promise<Rig> => {
    const r = await start(
      dir,
      models,
      'memory',
      { LIMITS_PER_CHANNEL_CONCURRENCY: '10', ...env },
      engine,
    );
    rigs.push(r);
    return r;
  };
  before(async () => {
    models = await demoModels(dir);
    engine = await testEngine(models, 'memory');
  });
  after(async () => {
    for (const r of rigs) await r.close();
    await engine?.close();
  });

  it('refuses a third queued job from one user with a retry time; others get through', async () => {
    await userLimit(await rig({ LIMITS_PER_USER_QUEUED: '2' }));
  });

  it('refuses past the hourly allowance, saying when it renews', async () => {
    const r = await rig({ LIMITS_PER_USER_PER_HOUR: '2' });
    const ask = (user: string) =>
      collect((sink) => r.commands.stylize(caller(user), { photo: astronaut }, sink));
    last(await ask('alice'), 'result');
    last(await ask('alice'), 'result');
    const refused = last(await ask('alice'), 'error');
    assert.equal(refused.code, 'rate-limited');
    assert.ok(refused.retryAfterMs! > 3_500_000 && refused.retryAfterMs! <= 3_600_000);
    assert.match(refused.text, /hourly limit.*Try again in ~60 min\./);
    last(await ask('bob'), 'result');
    // A refusal by another limit does not use up the allowance.
    const fresh = await rig({ LIMITS_PER_USER_PER_HOUR: '2', LIMITS_PER_USER_QUEUED: '0' });
    const burst = await together(fresh, [{ user: 'carol' }, { user: 'carol' }]);
    assert.deepEqual(
      refusals(burst).map((e) => e.code),
      ['user-busy'],
    );
    const again = await collect((sink) => fresh.commands.stylize(caller('carol'), {}, sink));
    last(again, 'result');
  });

  it('limits jobs in progress per channel', async () => {
    const r = await rig({ LIMITS_PER_CHANNEL_CONCURRENCY: '1' });
    const all = await together(r, [
      { user: 'alice', channel: 'a' },
      { user: 'bob', channel: 'a' },
      { user: 'carol', channel: 'b' },
    ]);
    assert.deepEqual(
      finals(all).map((f) => f.kind),
      ['result', 'error', 'result'],
    );
    assert.equal(refusals(all)[0]?.code, 'channel-busy');
  });

  it('answers a full queue with "busy, try again in ~N"', async () => {
    const r = await rig({ LIMITS_GLOBAL_QUEUE: '2' });
    const all = await together(r, [{ user: 'a' }, { user: 'b' }, { user: 'c' }]);
    const [busy] = refusals(all);
    assert.equal(busy?.code, 'queue-full');
    assert.match(busy.text, /^I'm busy: the queue is full right now\. Try again in /);
    assert.ok(busy.retryAfterMs! >= 1000);
  });

  it('keeps the counters in Redis when the store is Redis', async () => {
    // Counters of its own: the global and per-channel ones on the shared server are other runs'.
    const redis = await privateRedis();
    try {
      const r = await start(dir, models, redis.url, {
        LIMITS_PER_CHANNEL_CONCURRENCY: '10',
        LIMITS_PER_USER_QUEUED: '2',
      });
      try {
        await userLimit(r);
      } finally {
        await r.close();
      }
    } finally {
      await redis.stop();
    }
  });
});
