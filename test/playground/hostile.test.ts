/**
 * The playground against hostile clients (issue 11, finding 5): foreign Host names on every kind
 * of bind, identities minted per request, event backlogs of sessions that never listen, slow
 * clients and too many streams.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { EventHub } from '../../src/bots/playground/events.ts';
import { startPlayground, type PlaygroundOptions } from '../../src/bots/playground/server.ts';
import { Sessions } from '../../src/bots/playground/sessions.ts';
import { fakeCommands, MAX_BYTES, pageSession } from './support.ts';

const start = (options: Partial<PlaygroundOptions> = {}) =>
  startPlayground({
    commands: fakeCommands([]),
    host: '127.0.0.1',
    port: 0,
    maxBytes: MAX_BYTES,
    log: () => undefined,
    ...options,
  });

/** A raw request to 127.0.0.1:`port` with the given Host header; resolves with the status. */
function statusFor(
  port: number,
  host: string,
  path = '/',
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, method, headers: { host, ...headers } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    })
      .on('error', reject)
      .end();
  });
}

describe('playground host allow-list', () => {
  for (const bind of ['127.1', '0.0.0.0', '::']) {
    it(`refuses foreign Host names when bound to ${bind}`, async (t) => {
      let playground;
      try {
        playground = await start({ host: bind, publicHosts: ['pastiche.example'] });
      } catch (error) {
        // A host without IPv6 cannot bind '::'; that bind is then not one anyone can use.
        if ((error as NodeJS.ErrnoException).code === 'EAFNOSUPPORT') return t.skip('no IPv6');
        throw error;
      }
      try {
        const port = Number(new URL(playground.url).port);
        assert.equal(await statusFor(port, `attacker.example:${port}`), 421);
        assert.equal(await statusFor(port, 'attacker.example'), 421);
        const post = await statusFor(port, `attacker.example:${port}`, '/api/command', 'POST', {
          origin: `http://attacker.example:${port}`,
        });
        assert.equal(post, 421);
        assert.equal(await statusFor(port, `127.0.0.1:${port}`), 200);
        assert.equal(await statusFor(port, `LOCALHOST:${port}`), 200);
        assert.equal(await statusFor(port, 'pastiche.example'), 200);
      } finally {
        await playground.close();
      }
    });
  }
});

describe('playground sessions', () => {
  it('are issued by the page load only, a bounded number per client address', async () => {
    const playground = await start({ limits: { perAddress: 3 } });
    try {
      // An API call without a session the page issued is refused, and mints nothing.
      const bare = await fetch(new URL('api/state', playground.url));
      assert.equal(bare.status, 401);
      assert.equal(bare.headers.get('set-cookie'), null);
      const forged = await fetch(new URL('api/state', playground.url), {
        headers: { cookie: 'pastiche_session=AAAAAAAAAAAAAAAAAAAAAA' },
      });
      assert.equal(forged.status, 401);

      const issued = [];
      for (let i = 0; i < 3; i++) issued.push(await pageSession(playground.url));
      assert.equal(new Set(issued).size, 3);
      assert.equal(
        (await fetch(playground.url)).status,
        429,
        'a fourth page load without a cookie',
      );
      // A page load that presents its session keeps it and needs no new one.
      const again = await fetch(playground.url, { headers: { cookie: issued[0]! } });
      assert.equal(again.status, 200);
      assert.equal(again.headers.get('set-cookie'), null);
      const state = await fetch(new URL('api/state', playground.url), {
        headers: { cookie: issued[0]! },
      });
      assert.equal(state.status, 200);
    } finally {
      await playground.close();
    }
  });

  it('expire when idle and free their address slot', () => {
    let now = 0;
    const forgotten: string[] = [];
    const sessions = new Sessions(
      { perAddress: 2, total: 3, idleMs: 1000 },
      (id) => forgotten.push(id),
      () => now,
    );
    const a = sessions.issue('1.1.1.1')!;
    sessions.issue('1.1.1.1');
    assert.equal(sessions.issue('1.1.1.1'), undefined);
    now = 500;
    assert.equal(sessions.use(a), a);
    now = 1200;
    // The unused one expired; `a` was used at 500 and lives until 1500.
    assert.ok(sessions.issue('1.1.1.1'));
    assert.equal(forgotten.length, 1);
    // The total bound evicts the least recently used session of anyone.
    sessions.issue('2.2.2.2');
    sessions.issue('3.3.3.3');
    assert.ok(sessions.size <= 3);
    assert.equal(sessions.use(a), undefined);
  });
});

describe('playground event backlog', () => {
  it('keeps at most backlogSessions backlogs and drops old ones', () => {
    let now = 0;
    const hub = new EventHub(
      { backlogSessions: 5, backlogMs: 1000, streamsPerSession: 2, streams: 10 },
      () => undefined,
      () => now,
    );
    try {
      const event = { requestId: 'r', reply: { kind: 'done' as const } };
      for (let i = 0; i < 60_000; i++) hub.send(`s${i}`, event);
      assert.equal(hub.backlogged, 5);
      now = 2000;
      hub.send('late', event);
      hub.sweep();
      assert.equal(hub.backlogged, 1);
    } finally {
      hub.close();
    }
  });
});

describe('playground server bounds', () => {
  it('answers a request target that is no URL (`//`) instead of crashing', async () => {
    const playground = await start();
    try {
      const port = Number(new URL(playground.url).port);
      // `new URL('//', base)` throws; the handler used to let that escape and end the process.
      assert.equal(await statusFor(port, `127.0.0.1:${port}`, '//'), 401);
      assert.equal(await statusFor(port, `127.0.0.1:${port}`, '//x/api/state'), 401);
      assert.equal(await statusFor(port, `127.0.0.1:${port}`, '/'), 200);
    } finally {
      await playground.close();
    }
  });

  it('closes a connection whose headers never finish', async () => {
    const playground = await start({ limits: { headersTimeoutMs: 200 } });
    try {
      const { port } = new URL(playground.url);
      const socket = connect(Number(port), '127.0.0.1');
      await once(socket, 'connect');
      socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      // Ends on the server's timeout (a 408, then close), not on anything this side does.
      await once(socket, 'close');
      assert.match(answer, /^HTTP\/1\.1 408/);
    } finally {
      await playground.close();
    }
  });

  it('caps event streams per session', async () => {
    const playground = await start({ limits: { streamsPerSession: 2 } });
    const cookie = await pageSession(playground.url);
    const { port } = new URL(playground.url);
    const open = () =>
      new Promise<{ status: number; destroy: () => void }>((resolve, reject) => {
        request(
          {
            host: '127.0.0.1',
            port,
            path: '/api/events',
            headers: { cookie, host: `127.0.0.1:${port}` },
          },
          (res) => resolve({ status: res.statusCode!, destroy: () => res.destroy() }),
        )
          .on('error', reject)
          .end();
      });
    const streams = [await open(), await open()];
    try {
      assert.deepEqual(
        streams.map((s) => s.status),
        [200, 200],
      );
      const third = await open();
      third.destroy();
      assert.equal(third.status, 429);
    } finally {
      for (const s of streams) s.destroy();
      await playground.close();
    }
  });
});
