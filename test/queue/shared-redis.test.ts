/**
 * Redis is shared and writable by anything that reaches it (issue 11, findings 4 and 9): values
 * read back are validated, and every key a deployment writes starts with its own prefix, so two
 * deployments on one Redis share no counters, entries or records.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { openResultIndex } from '../../src/bots/discord/results.ts';
import { openSlackStore } from '../../src/bots/slack/store.ts';
import { createLimits, LimitError } from '../../src/commands/limits.ts';
import { openRecords } from '../../src/commands/records.ts';
import { createLatentCache, latentNamespace } from '../../src/engine/cache/latents.ts';
import { UserError } from '../../src/engine/errors.ts';
import { decodeError, decodeRequest, decodeResult, sideKeys } from '../../src/queue/protocol.ts';
import { RemoteEngine } from '../../src/queue/remote-engine.ts';
import type { QueueSettings } from '../../src/queue/settings.ts';
import { REDIS_URL } from '../helpers/redis.ts';

const opts = { timeout: 30_000 };
const run = randomUUID().slice(0, 8);
const redis = new Redis(REDIS_URL);
after(async () => {
  // Only this run's keys: other engineers' tests share this Redis.
  const keys = await redis.keys(`pastiche-t${run}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const settings = (keyPrefix: string): QueueSettings => ({
  name: `q${run}`,
  url: REDIS_URL,
  concurrency: 1,
  attempts: 1,
  lockMs: 30_000,
  stalledIntervalMs: 30_000,
  maxRequestBytes: 1 << 20,
  maxResultBytes: 1 << 20,
  keyPrefix,
});

const estimates = { owner: () => 1000, channel: () => 1000, queue: () => 1000 };
const limits = {
  perUserRunning: 1,
  perUserQueued: 0,
  perUserPerHour: 100,
  perChannelConcurrency: 10,
  globalQueue: 10,
};

describe('queue mode on a shared Redis', () => {
  it('starts and keeps serving when the styles key holds null or garbage', opts, async () => {
    const prefix = `pastiche-t${run}-styles`;
    const key = sideKeys(prefix, `q${run}`).styles;
    const errors: unknown[] = [];
    for (const bad of ['null', '{"not":"a list"}', '[{"name":1}]', 'not json']) {
      await redis.set(key, bad);
      const engine = await RemoteEngine.create({
        ...settings(prefix),
        cacheUrl: REDIS_URL,
        onError: (error) => errors.push(error),
      });
      try {
        assert.deepEqual(engine.styles(), []);
        // A command that lists styles works: an empty list, not an internal error.
        assert.ok(Array.isArray(engine.styles()));
      } finally {
        await engine.close();
      }
    }
    assert.equal(errors.length, 4);
    assert.ok(errors.every((e) => e instanceof Error && /published styles/.test(e.message)));
  });

  it('decodes only well-formed job data, results and errors', () => {
    for (const bad of [null, 1, 'x', { v: 2 }, { v: 1, request: { face: null } }]) {
      assert.throws(() => decodeRequest(bad), UserError);
    }
    const photo = { kind: 'photo', bytes64: '!!' };
    assert.throws(
      () => decodeRequest({ v: 1, request: { face: photo, style: { kind: 'exemplar' } } }),
      UserError,
    );
    for (const bad of [null, {}, { image: { format: 'gif' } }]) {
      assert.throws(() => decodeResult(bad), UserError);
    }
    const forged = decodeError('pastiche-user-error:{"code":"__proto__","detail":""}', 1);
    assert.equal(forged.code, 'internal');
    assert.equal(
      decodeError('pastiche-user-error:{"code":"no-face","detail":""}', 1).code,
      'no-face',
    );
  });

  it('keeps two deployments apart: limits, records and cache', opts, async () => {
    const [a, b] = [`pastiche-t${run}-a`, `pastiche-t${run}-b`];
    const onError = (): void => undefined;
    const limitsA = await createLimits({
      limits,
      url: REDIS_URL,
      keyPrefix: a,
      estimates,
      onError,
    });
    const limitsB = await createLimits({
      limits,
      url: REDIS_URL,
      keyPrefix: b,
      estimates,
      onError,
    });
    const recordsA = await openRecords({ url: REDIS_URL, ttlMs: 60_000, onError, keyPrefix: a });
    const recordsB = await openRecords({ url: REDIS_URL, ttlMs: 60_000, onError, keyPrefix: b });
    const cacheA = await createLatentCache({ url: REDIS_URL, namespace: latentNamespace(a) });
    const cacheB = await createLatentCache({ url: REDIS_URL, namespace: latentNamespace(b) });
    // Ids carrying the run's tag, so every key written for them can be found and checked.
    const user = `user-${run}`;
    const channel = `channel-${run}`;
    const style = `k-${run}`;
    try {
      // The same user holds its one slot in A; B's counter is its own.
      const release = await limitsA.admit(user, channel);
      await assert.rejects(limitsA.admit(user, channel), LimitError);
      const releaseB = await limitsB.admit(user, channel);
      await releaseB();
      await release();

      const photo = 'a'.repeat(64);
      await recordsA.setLastPhoto(user, photo);
      assert.equal(await recordsA.lastPhoto(user), photo);
      assert.equal(await recordsB.lastPhoto(user), undefined);

      await cacheA.setStyleCode(style, new Float32Array(4), {}, user);
      assert.ok(await cacheA.getStyleCode(style));
      assert.equal(await cacheB.getStyleCode(style), undefined);

      // Every key written for these ids starts with its deployment's prefix.
      const ours = (await redis.keys(`*${run}*`)).filter(
        (k) => k.includes(user) || k.includes(channel) || k.includes(style),
      );
      assert.ok(ours.length >= 3, ours.join(', '));
      const stray = ours.filter((k) => !k.startsWith(`${a}:`) && !k.startsWith(`${b}:`));
      assert.deepEqual(stray, []);
    } finally {
      await Promise.all([
        limitsA.close(),
        limitsB.close(),
        recordsA.close(),
        recordsB.close(),
        cacheA.close(),
        cacheB.close(),
      ]);
    }
  });

  it('drops a last-photo value that is not a photo key', opts, async () => {
    const prefix = `pastiche-t${run}-last`;
    const records = await openRecords({
      url: REDIS_URL,
      ttlMs: 60_000,
      onError: () => undefined,
      keyPrefix: prefix,
    });
    try {
      await records.setLastPhoto('u', 'content:../../etc');
      assert.equal(await records.lastPhoto('u'), undefined);
    } finally {
      await records.close();
    }
  });

  it("keeps the adapters' message indexes apart under each prefix", opts, async () => {
    const [a, b] = [`pastiche-t${run}-ma`, `pastiche-t${run}-mb`];
    const onError = () => undefined;
    const discordA = await openResultIndex({
      url: REDIS_URL,
      keyPrefix: a,
      ttlMs: 60_000,
      onError,
    });
    const discordB = await openResultIndex({
      url: REDIS_URL,
      keyPrefix: b,
      ttlMs: 60_000,
      onError,
    });
    const slackA = await openSlackStore({
      url: REDIS_URL,
      keyPrefix: a,
      resultTtlMs: 60_000,
      onError,
    });
    const slackB = await openSlackStore({
      url: REDIS_URL,
      keyPrefix: b,
      resultTtlMs: 60_000,
      onError,
    });
    try {
      await discordA.remember('m1', 'job-a');
      assert.equal(await discordA.jobOf('m1'), 'job-a');
      assert.equal(await discordB.jobOf('m1'), undefined);
      await slackA.setResult('C1', '1.000100', { jobId: 'job-a' });
      assert.equal((await slackA.result('C1', '1.000100'))?.jobId, 'job-a');
      assert.equal(await slackB.result('C1', '1.000100'), undefined);
      assert.ok(
        (await redis.keys(`${a}:discord*`)).length > 0,
        'discord keys start with the prefix',
      );
      assert.ok((await redis.keys(`${a}:slack*`)).length > 0, 'slack keys start with the prefix');
    } finally {
      await Promise.all([discordA.close(), discordB.close(), slackA.close(), slackB.close()]);
    }
  });
});
