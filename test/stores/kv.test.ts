/** The one store wrapper: JSON/text/bytes under `<keyPrefix>:<area>`, in the layout earlier versions wrote. */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createClient } from '@keyv/redis';
import { z } from 'zod';
import { openStore } from '../../src/stores/keyv.ts';
import { openKv } from '../../src/stores/kv.ts';
import { REDIS_URL, uniqueName } from '../helpers/redis.ts';

const onError = (): void => undefined;
const record = z.object({ jobId: z.string(), n: z.number() });

describe('openKv', () => {
  it('reads and writes JSON, text and bytes; a value of another shape is a miss', async () => {
    const kv = await openKv({ url: 'memory', keyPrefix: 'p', area: 'jobs', onError });
    try {
      await kv.setJson('a', { jobId: 'j1', n: 2 });
      assert.deepEqual(await kv.json('a', record), { jobId: 'j1', n: 2 });
      assert.equal(await kv.json('a', z.string()), undefined, 'wrong shape');
      await kv.setText('t', 'not json');
      assert.equal(await kv.json('t', record), undefined, 'not JSON');
      assert.equal(await kv.text('t'), 'not json');
      await kv.setBytes('b', new Uint8Array([1, 2, 3]));
      assert.deepEqual([...((await kv.bytes('b')) ?? [])], [1, 2, 3]);
      assert.equal(await kv.has('b'), true);
      assert.equal(await kv.delete('b'), true);
      assert.equal(await kv.has('b'), false);
      assert.equal(await kv.text('missing'), undefined);
    } finally {
      await kv.close();
    }
  });

  it('reads what the stores held before the wrapper (UTF-8 under `<keyPrefix>:<area>`)', async () => {
    const url = `sqlite://${join(mkdtempSync(join(tmpdir(), 'pastiche-kv-')), 'kv.sqlite')}`;
    // What openSlackStore wrote before: keyv over bytes, namespace `<keyPrefix>:slack`.
    const raw = await openStore({
      url,
      namespace: 'pastiche:slack',
      connectTimeoutMs: 1000,
      onError,
    });
    await raw.keyv.set('result:C1:2.0001', new TextEncoder().encode('{"jobId":"old","n":1}'));
    await raw.close();
    const kv = await openKv({ url, keyPrefix: 'pastiche', area: 'slack', onError });
    try {
      assert.deepEqual(await kv.json('result:C1:2.0001', record), { jobId: 'old', n: 1 });
      const other = await openKv({ url, keyPrefix: 'other', area: 'slack', onError });
      assert.equal(await other.json('result:C1:2.0001', record), undefined, 'another prefix');
      await other.close();
    } finally {
      await kv.close();
    }
  });
});

describe('openKv on Redis', () => {
  const prefix = uniqueName('kv');
  const client = createClient({ url: REDIS_URL });
  after(async () => {
    for (const key of await client.keys(`${prefix}*`)) await client.del(key);
    await client.close();
  });

  it('puts every key under `<keyPrefix>:<area>` and reads what the earlier layout wrote', async () => {
    await client.connect();
    const kv = await openKv({ url: REDIS_URL, keyPrefix: prefix, area: 'discord', onError });
    try {
      await kv.setText('message:1', 'job-1', 60_000);
      const keys = await client.keys(`${prefix}*`);
      assert.deepEqual(keys, [`${prefix}:discord::message:1`]);
      // The value as openStore (the layout of every earlier wrapper) reads it.
      const raw = await openStore({
        url: REDIS_URL,
        namespace: `${prefix}:discord`,
        connectTimeoutMs: 2000,
        onError,
      });
      try {
        assert.equal(new TextDecoder().decode(await raw.keyv.get('message:1')), 'job-1');
        await raw.keyv.set('guild:9:avatars', new TextEncoder().encode('on'));
        assert.equal(await kv.text('guild:9:avatars'), 'on');
      } finally {
        await raw.close();
      }
    } finally {
      await kv.close();
    }
  });
});
