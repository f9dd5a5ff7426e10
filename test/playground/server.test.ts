/**
 * The playground server as an adapter, against a fake command layer: uploads, the event stream,
 * images kept per session, and what it refuses. (The browser test runs the real thing.)
 */
import assert from 'node:assert/strict';
import { get, request, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Caller, Reply } from '../../src/commands/types.ts';
import { startPlayground, type Playground } from '../../src/bots/playground/server.ts';
import type { WireEvent } from '../../src/bots/playground/wire.ts';
import { UserError } from '../../src/engine/errors.ts';
import { fakeCommands, IMAGE, MAX_BYTES, pageSession } from './support.ts';

/** An open event stream of one session, collecting events. */
class Stream {
  readonly events: WireEvent[] = [];
  #res: IncomingMessage | undefined;
  /** Called on every event that arrives. */
  #onEvent = (): void => undefined;

  static async open(base: string, cookie: string): Promise<Stream> {
    const stream = new Stream();
    const res = await new Promise<IncomingMessage>((resolve) =>
      get(new URL('api/events', base), { headers: { cookie } }, resolve),
    );
    stream.#res = res;
    let buffer = '';
    res.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      const frames = buffer.split('\n\n');
      buffer = frames.pop()!;
      for (const frame of frames) {
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (data) {
          stream.events.push(JSON.parse(data) as WireEvent);
          stream.#onEvent();
        }
      }
    });
    return stream;
  }

  /** The replies of one request, once its `done` event has arrived. */
  async replies(requestId: string): Promise<Reply['kind'][]> {
    const mine = () =>
      this.events.filter((e) => e.requestId === requestId).map((e) => e.reply.kind);
    await new Promise<void>((resolve) => {
      this.#onEvent = () => {
        if (mine().includes('done')) resolve();
      };
      this.#onEvent();
    });
    return mine() as Reply['kind'][];
  }

  /** The first reply (of any request) that `match` accepts, once it has arrived. */
  async next(match: (reply: WireEvent['reply']) => boolean): Promise<WireEvent['reply']> {
    const found = () => this.events.find((e) => match(e.reply))?.reply;
    await new Promise<void>((resolve) => {
      this.#onEvent = () => {
        if (found()) resolve();
      };
      this.#onEvent();
    });
    return found()!;
  }

  close(): void {
    this.#res?.destroy();
  }
}

describe('playground server', { timeout: 60_000 }, () => {
  let playground: Playground;
  const calls: { caller: Caller; photo?: Uint8Array }[] = [];
  // Sessions the page load issued: the API accepts no other.
  let cookie = '';
  let other = '';
  let fresh = '';
  const post = (path: string, id: string, body: BodyInit, headers: Record<string, string> = {}) =>
    fetch(new URL(path, playground.url), {
      method: 'POST',
      headers: { cookie, 'x-request-id': id, ...headers },
      body,
    });

  before(async () => {
    playground = await startPlayground({
      commands: fakeCommands(calls),
      host: '127.0.0.1',
      port: 0,
      maxBytes: MAX_BYTES,
      log: () => undefined,
    });
    cookie = await pageSession(playground.url);
    other = await pageSession(playground.url);
    fresh = await pageSession(playground.url);
  });
  after(() => playground.close());

  it('serves the page with a session cookie and a strict content policy', async () => {
    const res = await fetch(playground.url);
    assert.equal(res.status, 200);
    assert.match(
      res.headers.get('set-cookie') ?? '',
      /^pastiche_session=[\w-]{22}; Path=\/; HttpOnly; SameSite=Strict$/,
    );
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(await (await fetch(new URL('app.js', playground.url))).text(), /EventSource/);
  });

  it('streams a command’s replies to its session and keeps the image for that session only', async () => {
    const stream = await Stream.open(playground.url, cookie);
    try {
      const res = await post('api/stylize?pack=p&structure=0.5', 'req1', new Uint8Array(10));
      assert.equal(res.status, 202);
      assert.deepEqual(await stream.replies('req1'), ['status', 'result', 'done']);
      const caller = calls.at(-1)!.caller;
      assert.equal(caller.platform, 'playground');
      assert.equal(`pastiche_session=${caller.userId}`, cookie);
      const result = stream.events.find((e) => e.reply.kind === 'result')!.reply;
      assert.ok(result.kind === 'result');
      const image = await fetch(new URL(result.image.url, playground.url), { headers: { cookie } });
      assert.deepEqual(new Uint8Array(await image.arrayBuffer()), IMAGE.bytes);
      const stranger = await fetch(new URL(result.image.url, playground.url), {
        headers: { cookie: other },
      });
      assert.equal(stranger.status, 404);
    } finally {
      stream.close();
    }
  });

  it('keeps replies that come before the page listens', async () => {
    // A session that never listened, so no stream of an earlier test is still closing.
    await post('api/stylize', 'early', Uint8Array.of(7), { cookie: fresh });
    const stream = await Stream.open(playground.url, fresh);
    try {
      assert.deepEqual(await stream.replies('early'), ['error', 'done']);
    } finally {
      stream.close();
    }
  });

  it('turns a command that throws into a generic error reply', async () => {
    const stream = await Stream.open(playground.url, cookie);
    try {
      await post('api/command', 'bug', JSON.stringify({ name: 'help' }), {
        'content-type': 'application/json',
      });
      assert.deepEqual(await stream.replies('bug'), ['error', 'done']);
    } finally {
      stream.close();
    }
  });

  it('refuses an upload over photo.maxBytes with the user-facing text', async () => {
    const before = calls.length;
    const res = await post('api/stylize', 'big', new Uint8Array(MAX_BYTES + 1));
    assert.equal(res.status, 413);
    assert.deepEqual(await res.json(), { error: new UserError('file-too-large').userMessage });
    assert.equal(calls.length, before, 'the command layer never saw it');
  });

  it('refuses other sites and other host names', async () => {
    const crossSite = await post('api/command', 'x', '{"name":"privacy"}', {
      origin: 'http://evil.example',
    });
    assert.equal(crossSite.status, 403);
    const status = await new Promise<number>((resolve) => {
      const { port } = new URL(playground.url);
      request(
        { host: '127.0.0.1', port, path: '/', headers: { host: `rebound.example:${port}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      ).end();
    });
    assert.equal(status, 421);
  });

  it('rejects malformed requests before any command runs', async () => {
    assert.equal((await post('api/reroll', 'r', '{"jobId":"j","mode":"everything"}')).status, 400);
    assert.equal((await post('api/stylize?structure=2', 'r', '')).status, 400);
    assert.equal((await post('api/nothing', 'r', '')).status, 404);
    const noId = await fetch(new URL('api/stylize', playground.url), {
      method: 'POST',
      headers: { cookie },
    });
    assert.equal(noId.status, 400);
  });
});

describe('playground preview', { timeout: 60_000 }, () => {
  const PREVIEW = { bytes: Uint8Array.of(9, 8, 7), format: 'jpeg' as const, width: 16, height: 16 };
  let playground: Playground;
  let release = (): void => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));

  before(async () => {
    const commands = fakeCommands([]);
    // A job that shows its first look, then waits for the test before its result.
    commands.stylize = async (_caller, _input, reply) => {
      await reply({ kind: 'status', jobId: 'job-p', stage: 'generating', text: 'Painting…' });
      await reply({
        kind: 'status',
        jobId: 'job-p',
        stage: 'generating',
        text: 'First look',
        preview: PREVIEW,
      });
      await released;
      const params = { pack: 'p', style: 's', structure: 0.6, color: 1 };
      await reply({
        kind: 'result',
        jobId: 'job-p',
        image: IMAGE,
        text: 'done',
        params: { ...params, preserveColor: false, size: 64, reference: 'p:0' },
      });
    };
    playground = await startPlayground({
      commands,
      host: '127.0.0.1',
      port: 0,
      maxBytes: MAX_BYTES,
      log: () => undefined,
    });
  });
  after(() => playground.close());

  it('streams the preview as an image of the session until the result replaces it', async () => {
    const cookie = await pageSession(playground.url);
    const stream = await Stream.open(playground.url, cookie);
    try {
      const res = await fetch(new URL('api/stylize', playground.url), {
        method: 'POST',
        headers: { cookie, 'x-request-id': 'prev' },
        body: new Uint8Array(10),
      });
      assert.equal(res.status, 202);
      const preview = await stream.next((r) => r.kind === 'status' && r.preview !== undefined);
      assert.ok(preview.kind === 'status' && preview.preview);
      assert.deepEqual([preview.preview.width, preview.preview.height], [16, 16]);
      const url = new URL(preview.preview.url, playground.url);
      const shown = await fetch(url, { headers: { cookie } });
      assert.equal(shown.headers.get('content-type'), 'image/jpeg');
      assert.deepEqual(new Uint8Array(await shown.arrayBuffer()), PREVIEW.bytes);
      release();
      assert.deepEqual(await stream.replies('prev'), ['status', 'status', 'result', 'done']);
      // Replaced: the result's image is served, the preview is not kept.
      assert.equal((await fetch(url, { headers: { cookie } })).status, 404);
    } finally {
      stream.close();
    }
  });
});
