import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it, mock } from 'node:test';

import { createClient } from '@keyv/redis';
import Database from 'better-sqlite3';

import {
  createLatentCache,
  type ContentEntry,
  type LatentCache,
  type LatentCacheOptions,
} from '../../src/engine/cache/latents.ts';
import { createRng } from '../../src/engine/random.ts';
import { REDIS_URL, uniqueName } from '../helpers/redis.ts';

const CHECKSUM = 'enc-3f2a';
const sha = (n: number): string => n.toString(16).padStart(64, '0');

/** A code that JSON or a float conversion would not keep: NaN payloads, -0, ±∞, subnormals. */
function entry(seed: number, nLatent = 18, styleDim = 512): ContentEntry {
  const code = createRng(seed).fillNormal(new Float32Array(nLatent * styleDim));
  const bits = new Uint32Array(code.buffer);
  const special = [0x7fc00001, 0xffa5a5a5, 0x80000000, 0x7f800000, 0xff800000, 0x00000001];
  bits.set(special.slice(0, bits.length));
  const rng = createRng(`${seed}/alignment`);
  const point = () => [rng.uniform() * 1000, rng.uniform() * 1000];
  return {
    code,
    nLatent,
    styleDim,
    alignment: {
      quad: Array.from({ length: 4 }, point),
      box: [12.25, 30.1, 200.5 / 3, 0.1 + 0.2],
      landmarks: Array.from({ length: 68 }, point),
      faceCount: seed % 3,
      qsize: Math.PI * 100,
    },
  };
}

function assertSameBits(actual: Float32Array | undefined, expected: Float32Array): void {
  assert.ok(actual, 'entry missing');
  assert.equal(actual.length, expected.length);
  assert.ok(
    Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(
      Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength),
    ),
    'code bits differ',
  );
}

/**
 * Makes a TTL pass: `start` before the entry is written, `pass` after. Memory and SQLite entries
 * expire by keyv's (and the sweep's) check of Date.now(), so a fake clock moves time on; Redis
 * expires keys itself, so there the test waits for the entry to be gone.
 */
interface Clock {
  start(): void;
  pass(ms: number, gone: () => Promise<boolean>): Promise<void>;
  stop(): void;
}

const fakeClock: Clock = {
  start: () => mock.timers.enable({ apis: ['Date'], now: Date.now() }),
  pass: async (ms) => mock.timers.tick(ms + 1),
  stop: () => mock.timers.reset(),
};

const redisClock: Clock = {
  start() {},
  async pass(ms, gone) {
    const deadline = Date.now() + ms + 10_000;
    while (!(await gone())) {
      assert.ok(Date.now() < deadline, `still there ${ms} ms + 10 s after its TTL`);
      await sleep(20);
    }
  },
  stop() {},
};

/** The behaviour every store must have; `open` gives a cache over one store and namespace. */
function sharedBehaviour(
  open: (options?: LatentCacheOptions) => Promise<LatentCache>,
  clock: Clock,
): void {
  let cache: LatentCache;
  before(async () => {
    cache = await open();
  });
  after(async () => {
    await cache.clear();
    await cache.close();
  });

  it('round-trips a content code and its alignment bit for bit', async () => {
    const stored = entry(1);
    await cache.setContent(sha(1), CHECKSUM, stored, 'alice');
    const got = await cache.getContent(sha(1), CHECKSUM);
    assertSameBits(got?.code, stored.code);
    assert.deepEqual({ ...got, code: undefined }, { ...stored, code: undefined });
  });

  it('misses on another photo or another encoder checksum', async () => {
    assert.equal(await cache.getContent(sha(999), CHECKSUM), undefined);
    assert.equal(await cache.getContent(sha(1), 'other-encoder'), undefined);
    assert.equal(await cache.getStyleCode('never-stored'), undefined);
  });

  it('round-trips a style code with its meta', async () => {
    const code = entry(2, 18, 512).code;
    const meta = { kind: 'sampled', pack: 'cartoon', seed: 42, shared: true, note: null };
    await cache.setStyleCode('cartoon:seed:42', code, meta, 'alice');
    const got = await cache.getStyleCode('cartoon:seed:42');
    assertSameBits(got?.code, code);
    assert.deepEqual(got?.meta, meta);
  });

  it("forget(user) removes that user's entries and no one else's", async () => {
    await cache.setContent(sha(10), CHECKSUM, entry(10, 2, 4), 'bob');
    await cache.setStyleCode('bob-exemplar', entry(11, 2, 4).code, { kind: 'image' }, 'bob');
    await cache.setContent(sha(12), CHECKSUM, entry(12, 2, 4), 'carol');
    assert.equal(await cache.forget('bob'), 2);
    assert.equal(await cache.getContent(sha(10), CHECKSUM), undefined);
    assert.equal(await cache.getStyleCode('bob-exemplar'), undefined);
    assert.ok(await cache.getContent(sha(12), CHECKSUM), "carol's entry survived");
    assert.ok(await cache.getContent(sha(1), CHECKSUM), "alice's entry survived");
    assert.equal(await cache.forget('bob'), 0, 'a second forget finds nothing');
  });

  it('forgets an entry two users stored (it derives from the forgetting user photo)', async () => {
    await cache.setContent(sha(20), CHECKSUM, entry(20, 2, 4), 'dave');
    await cache.setContent(sha(20), CHECKSUM, entry(20, 2, 4), 'erin');
    await cache.forget('dave');
    assert.equal(await cache.getContent(sha(20), CHECKSUM), undefined);
  });

  it('indexes every key under concurrent writes by one user', async () => {
    const n = 25;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        cache.setContent(sha(100 + i), CHECKSUM, entry(100 + i, 1, 4), 'frank'),
      ),
    );
    assert.equal(await cache.forget('frank'), n);
    for (let i = 0; i < n; i++)
      assert.equal(await cache.getContent(sha(100 + i), CHECKSUM), undefined);
  });

  it('expires entries after the TTL', async () => {
    const short = await open({ ttlMs: 150 });
    clock.start();
    try {
      await short.setContent(sha(30), CHECKSUM, entry(30, 2, 4), 'gina');
      assert.ok(await short.getContent(sha(30), CHECKSUM), 'present before the TTL');
      await clock.pass(150, async () => !(await short.getContent(sha(30), CHECKSUM)));
      assert.equal(await short.getContent(sha(30), CHECKSUM), undefined);
      assert.equal(await short.forget('gina'), 0, 'the index forgot the expired key too');
    } finally {
      clock.stop();
      await short.close();
    }
  });

  it('rejects malformed input with a message naming it', async () => {
    const bad = { ...entry(40, 2, 4), nLatent: 3 };
    await assert.rejects(cache.setContent(sha(40), CHECKSUM, bad, 'h'), /8 values, expected.*3·4/);
    await assert.rejects(cache.setContent('abc', CHECKSUM, entry(40, 2, 4), 'h'), /photoSha256/);
    await assert.rejects(cache.setContent(sha(40), CHECKSUM, entry(40, 2, 4), ''), /userId/);
  });
}

describe('latent cache: memory', () => {
  sharedBehaviour((o) => createLatentCache({ url: 'memory', ...o }), fakeClock);
});

describe('latent cache: SQLite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pastiche-cache-'));
  const file = join(dir, 'nested', 'latents.sqlite');
  const url = `sqlite://${file}`;
  after(() => rmSync(dir, { recursive: true, force: true }));

  sharedBehaviour((o) => createLatentCache({ url, namespace: 'main', ...o }), fakeClock);

  it('survives closing and reopening the file (a restart)', async () => {
    const stored = entry(50);
    const first = await createLatentCache({ url, namespace: 'restart' });
    await first.setContent(sha(50), CHECKSUM, stored, 'ivan');
    await first.close();
    const second = await createLatentCache({ url, namespace: 'restart' });
    try {
      assertSameBits((await second.getContent(sha(50), CHECKSUM))?.code, stored.code);
      assert.equal(await second.forget('ivan'), 1, 'the user index survived too');
    } finally {
      await second.close();
    }
  });

  it('treats a damaged row as a miss and deletes it', async () => {
    const cache = await createLatentCache({ url, namespace: 'damaged' });
    try {
      await cache.setContent(sha(80), CHECKSUM, entry(80, 2, 4), 'mia');
      const db = new Database(file);
      db.prepare("UPDATE cache SET value = x'00010203' WHERE key LIKE 'damaged:content:%'").run();
      db.close();
      assert.equal(await cache.getContent(sha(80), CHECKSUM), undefined);
      const check = new Database(file, { readonly: true });
      const row = check.prepare("SELECT 1 FROM cache WHERE key LIKE 'damaged:content:%'").get();
      check.close();
      assert.equal(row, undefined);
    } finally {
      await cache.close();
    }
  });

  it('drops entries that do not fit the pack (shape, NaN, a 36-byte bomb), counting them', async () => {
    const rejected: string[] = [];
    const cache = await createLatentCache({
      url,
      namespace: 'validate',
      onRejected: (key, reason) => rejected.push(`${key}: ${reason}`),
    });
    const pack = { nLatent: 2, styleDim: 4 };
    const rowOf = (key: string): unknown => {
      const db = new Database(file, { readonly: true });
      const row = db.prepare('SELECT 1 FROM cache WHERE key = ?').get(`validate:${key}`);
      db.close();
      return row;
    };
    try {
      // A fine entry for this pack is a hit and counts nothing.
      const good = entry(90, 2, 4);
      good.code.fill(0.5);
      await cache.setContent(sha(90), CHECKSUM, good, 'nia');
      assertSameBits((await cache.getContent(sha(90), CHECKSUM, pack))?.code, good.code);
      // Another pack's dimensions: a miss, deleted.
      await cache.setContent(sha(91), CHECKSUM, entry(91, 3, 4), 'nia');
      assert.equal(await cache.getContent(sha(91), CHECKSUM, pack), undefined);
      assert.equal(rowOf(`content:${sha(91)}:${CHECKSUM}`), undefined);
      // NaN in the code (entry() plants NaN payloads): a miss.
      await cache.setContent(sha(92), CHECKSUM, entry(92, 2, 4), 'nia');
      assert.equal(await cache.getContent(sha(92), CHECKSUM, pack), undefined);
      // A style code of the wrong length: a miss.
      await cache.setStyleCode('s', new Float32Array(3), {}, 'nia');
      assert.equal(await cache.getStyleCode('s', pack), undefined);
      // The 36-byte value that used to allocate 2^32 rows, written straight into the store.
      await cache.setContent(sha(93), CHECKSUM, good, 'nia');
      const bomb = new Uint8Array(36);
      bomb.set([0x50, 0x53, 0x4c, 0x43, 1, 1, 0, 0]);
      new DataView(bomb.buffer).setUint32(28, 0xffffffff, true);
      const db = new Database(file);
      db.prepare('UPDATE cache SET value = ? WHERE key = ?').run(
        Buffer.from(bomb),
        `validate:content:${sha(93)}:${CHECKSUM}`,
      );
      db.close();
      assert.equal(await cache.getContent(sha(93), CHECKSUM, pack), undefined);
      assert.equal(rowOf(`content:${sha(93)}:${CHECKSUM}`), undefined);
      assert.equal(cache.rejected, 4);
      assert.equal(rejected.length, 4);
      assert.match(rejected[0]!, /3×4, the pack needs 2×4/);
    } finally {
      await cache.close();
    }
  });

  it('stores values as BLOBs and sweeps expired rows when reopened', async (t) => {
    fakeClock.start();
    t.after(() => fakeClock.stop());
    const short = await createLatentCache({ url, namespace: 'sweep', ttlMs: 100 });
    await short.setContent(sha(60), CHECKSUM, entry(60), 'judy');
    await short.close();
    const db = new Database(file, { readonly: true });
    const row = db
      .prepare<[], { type: string; size: number }>(
        "SELECT typeof(value) AS type, length(value) AS size FROM cache WHERE key LIKE 'sweep:content:%'",
      )
      .get();
    db.close();
    assert.equal(row?.type, 'blob');
    // 18×512 float32 = 36 KiB plus a small header and the alignment; JSON would be ~4× that.
    assert.ok(row.size > 36864 && row.size < 36864 + 2048, `row size ${row.size}`);

    await fakeClock.pass(100, async () => true);
    const reopened = await createLatentCache({ url, namespace: 'other' });
    await reopened.close();
    const check = new Database(file, { readonly: true });
    const left = check
      .prepare<[], { n: number }>("SELECT count(*) AS n FROM cache WHERE key LIKE 'sweep:%'")
      .get();
    check.close();
    assert.equal(left?.n, 0, 'expired rows (entry and index) were deleted at open');
  });
});

describe('latent cache: Redis', () => {
  const namespace = uniqueName('latents');
  const open = async (o?: LatentCacheOptions): Promise<LatentCache> => {
    try {
      return await createLatentCache({ url: REDIS_URL, namespace, ...o });
    } catch (error) {
      throw new Error(
        `these tests need Redis at ${REDIS_URL} (this machine kind runs one; start it with ` +
          `redis-server --daemonize yes --port 6379): ${String(error)}`,
        { cause: error },
      );
    }
  };

  sharedBehaviour(open, redisClock);

  it('keeps the index exact when two processes write for one user at once', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    try {
      const n = 20;
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          (i % 2 ? a : b).setContent(sha(200 + i), CHECKSUM, entry(200 + i, 1, 4), 'kim'),
        ),
      );
      assert.equal(await b.forget('kim'), n);
      for (let i = 0; i < n; i++)
        assert.equal(await a.getContent(sha(200 + i), CHECKSUM), undefined);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('stores base64 of the binary layout, not JSON numbers, and cleans up its namespace', async () => {
    const cache = await open();
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    try {
      await cache.setContent(sha(70), CHECKSUM, entry(70), 'lena');
      const raw = await client.get(`${namespace}::content:${sha(70)}:${CHECKSUM}`);
      assert.ok(raw, 'raw value present under the namespace');
      assert.match(raw, /^[A-Za-z0-9+/]+=*$/);
      assert.ok(raw.length < ((36864 + 2048) * 4) / 3, `raw length ${raw.length}`);
      await cache.clear();
      assert.deepEqual(await client.keys(`${namespace}*`), []);
    } finally {
      client.destroy();
      await cache.close();
    }
  });

  it('fails at once, with the URL in the message, when Redis is unreachable', async () => {
    await assert.rejects(
      createLatentCache({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 2000 }),
      /Redis at redis:\/\/127\.0\.0\.1:1 is unreachable/,
    );
  });
});

describe('latent cache: configuration', () => {
  it('rejects an unknown store URL and a bad TTL', async () => {
    await assert.rejects(createLatentCache({ url: 'mongodb://x' }), /memory, sqlite/);
    await assert.rejects(createLatentCache({ url: 'memory', ttlMs: 0 }), /ttlMs/);
  });
});
