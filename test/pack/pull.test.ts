/**
 * `models pull` against a local stand-in for the Hugging Face hub that serves the tiny fixture
 * checkpoints the way the hub serves LFS files: `X-Linked-Size`/`X-Linked-Etag` on a redirect to
 * a CDN path, Range support, and failures on demand (a cut connection, corrupt bytes).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { downloadFile } from '../../src/engine/pack/download.ts';
import { DownloadError } from '../../src/engine/pack/hub.ts';
import { OFFICIAL_LICENCE } from '../../src/engine/pack/manifest.ts';
import { pullStyles, type PullEvent, type PullOptions } from '../../src/engine/pack/pull.ts';
import { listPacks, openPack } from '../../src/engine/pack/store.ts';
import { TINY, tempDir } from '../helpers/packs.ts';

const REPO = 'CVPR/DualStyleGAN';
const CHECKPOINT = join(TINY, 'checkpoint');
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface HubBehaviour {
  /** Paths (under models/) answered with a redirect to /cdn/…, as the hub does for LFS files. */
  redirect?: string[];
  /** Path → bytes after which the first GET of it is cut off. */
  cutOnce?: Record<string, number>;
  /** Paths whose GETs ignore Range and always answer 200 with the whole file. */
  ignoreRange?: string[];
  /** Paths served with one byte flipped while the headers announce the real sha256. */
  corrupt?: string[];
  /** Paths answered with 404 although the fixture has them. */
  hide?: string[];
}

interface Seen {
  method: string;
  path: string;
  range?: string;
}

async function startHub(behaviour: HubBehaviour = {}): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const cut = new Map(Object.entries(behaviour.cutOnce ?? {}));
  const resolvePrefix = `/${REPO}/resolve/main/models/`;

  const serve = (req: IncomingMessage, res: ServerResponse, path: string, linked: boolean) => {
    const file = join(CHECKPOINT, path);
    if (behaviour.hide?.includes(path) || path.includes('..') || !existsSync(file)) {
      res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end('Entry not found');
      return;
    }
    const real = readFileSync(file);
    const body = Buffer.from(real);
    if (behaviour.corrupt?.includes(path)) body[body.length >> 1]! ^= 0xff;
    const headers: Record<string, string | number> = { 'accept-ranges': 'bytes' };
    if (linked) {
      headers['x-linked-size'] = real.length;
      headers['x-linked-etag'] = `"${sha256(real)}"`;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range && !behaviour.ignoreRange?.includes(path) ? Number(range[1]) : 0;
    if (start > 0) {
      headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    }
    res.writeHead(start > 0 ? 206 : 200, { ...headers, 'content-length': body.length - start });
    if (req.method === 'HEAD') return void res.end();
    const cutAt = cut.get(path);
    if (cutAt !== undefined) {
      cut.delete(path);
      // Let the client read the first bytes before the connection drops.
      res.write(body.subarray(start, cutAt), () => setTimeout(() => res.socket?.destroy(), 200));
      return;
    }
    res.end(body.subarray(start));
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://hub');
    seen.push({ method: req.method ?? '', path: url.pathname, range: req.headers.range });
    if (url.pathname.startsWith('/cdn/')) {
      serve(req, res, url.pathname.slice('/cdn/'.length), false);
    } else if (url.pathname.startsWith(resolvePrefix)) {
      const path = url.pathname.slice(resolvePrefix.length);
      if (behaviour.redirect?.includes(path) && existsSync(join(CHECKPOINT, path))) {
        const real = readFileSync(join(CHECKPOINT, path));
        res.writeHead(302, {
          location: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cdn/${path}?sig=x`,
          'x-linked-size': real.length,
          'x-linked-etag': `"${sha256(real)}"`,
        });
        res.end();
      } else {
        serve(req, res, path, true);
      }
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function options(hubUrl: string, overrides: Partial<PullOptions> = {}): PullOptions {
  const dir = tempDir('pull');
  return {
    hubUrl,
    repo: REPO,
    styles: ['cartoon'],
    downloadsDir: join(dir, 'downloads'),
    out: join(dir, 'models'),
    download: { retryDelayMs: 0, idleTimeoutMs: 5000 },
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<DownloadError> {
  const error = await promise.then(
    () => assert.fail('expected a DownloadError'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof DownloadError, `expected a DownloadError, got ${String(error)}`);
  return error;
}

describe('models pull', () => {
  it('says the licence first, downloads through the redirect, verifies and imports', async () => {
    const hub = await startHub({ redirect: ['cartoon/generator.pt', 'encoder.pt'] });
    const opts = options(hub.url);
    const events: PullEvent[] = [];
    const result = await pullStyles({
      ...opts,
      onEvent: (e) => {
        if (e.type === 'licence') assert.equal(hub.seen.length, 0, 'licence before any request');
        events.push(e);
      },
    });
    assert.deepEqual(events[0], { type: 'licence', text: OFFICIAL_LICENCE });
    assert.match(OFFICIAL_LICENCE, /non-commercial/);

    assert.deepEqual(
      result.downloaded.map((d) => [d.status, d.verified]),
      new Array(6).fill(['downloaded', 'sha256']),
    );
    assert.ok(hub.seen.some((s) => s.method === 'GET' && s.path.startsWith('/cdn/cartoon/')));
    for (const rel of [
      'encoder.pt',
      'encoder_wplus.pt',
      'cartoon/generator.pt',
      'cartoon/sampler.pt',
    ]) {
      const got = readFileSync(join(opts.downloadsDir, rel));
      assert.equal(sha256(got), sha256(readFileSync(join(CHECKPOINT, rel))), rel);
    }
    assert.deepEqual(
      listPacks(opts.out).map((p) => p.manifest.name),
      ['cartoon', 'encoder', 'encoder-wplus'],
    );
    // The published W+ encoder becomes the identity encoder's pack, as `models import` makes it.
    const wPlus = openPack(opts.out, 'encoder-wplus').manifest;
    assert.equal(wPlus.kind === 'encoder' && wPlus.space, 'w+');
    assert.deepEqual(
      wPlus.sources.map((s) => s.name),
      ['encoder_wplus.pt'],
    );
    const cartoon = openPack(opts.out, 'cartoon').manifest;
    assert.equal(cartoon.kind === 'style' && cartoon.hasSampler, true);
    assert.equal(cartoon.demo, false);
    assert.match(cartoon.licence, /non-commercial/);
    const progress = events.filter((e) => e.type === 'file-progress');
    assert.ok(progress.length >= 6, 'progress for every file');

    // A second pull finds every file in place: HEADs only, no GET.
    const before = hub.seen.length;
    const again = await pullStyles(opts);
    assert.ok(again.downloaded.every((d) => d.status === 'up-to-date'));
    assert.ok(hub.seen.slice(before).every((s) => s.method === 'HEAD'));
  });

  it('resumes an interrupted transfer with a Range request', async () => {
    const cutAt = 1_000_000;
    const hub = await startHub({ cutOnce: { 'cartoon/generator.pt': cutAt } });
    const opts = options(hub.url);
    const part = join(opts.downloadsDir, 'cartoon/generator.pt.part');

    // The first run gives up at once (no retries) and leaves the part file behind.
    const error = await rejection(pullStyles({ ...opts, download: { retries: 0 } }));
    assert.equal(error.kind, 'interrupted');
    assert.equal(statSync(part).size, cutAt);
    assert.ok(!existsSync(opts.out), 'no pack from an incomplete download');

    const result = await pullStyles(opts);
    const generator = result.downloaded.find((d) => d.file.endsWith('generator.pt'))!;
    assert.equal(generator.status, 'resumed');
    const gets = hub.seen.filter((s) => s.method === 'GET' && s.path.endsWith('generator.pt'));
    assert.deepEqual(
      gets.map((s) => s.range),
      [undefined, `bytes=${cutAt}-`],
    );
    assert.equal(
      generator.sha256,
      sha256(readFileSync(join(CHECKPOINT, 'cartoon/generator.pt'))),
      'the hash covers the resumed bytes too',
    );
    assert.ok(!existsSync(part));
    assert.ok(openPack(opts.out, 'cartoon'));
  });

  it('starts over when the server ignores Range (200 instead of 206), within one run', async () => {
    const path = 'cartoon/sampler.pt';
    const hub = await startHub({ cutOnce: { [path]: 100_000 }, ignoreRange: [path] });
    const opts = options(hub.url);
    const retries: DownloadError[] = [];
    const outcome = await downloadFile(
      `${hub.url}/${REPO}/resolve/main/models/${path}`,
      join(opts.downloadsDir, path),
      { retryDelayMs: 0, onRetry: (e) => retries.push(e) },
    );
    assert.equal(retries.length, 1);
    assert.equal(outcome.status, 'downloaded');
    assert.equal(outcome.sha256, sha256(readFileSync(join(CHECKPOINT, path))));
    const gets = hub.seen.filter((s) => s.method === 'GET');
    assert.deepEqual(
      gets.map((s) => s.range),
      [undefined, 'bytes=100000-'],
    );
  });

  it('rejects a corrupted file, deletes it and writes no pack', async () => {
    const hub = await startHub({ corrupt: ['cartoon/exstyle_code.npy'] });
    const opts = options(hub.url);
    const error = await rejection(pullStyles(opts));
    assert.equal(error.kind, 'checksum');
    assert.equal(error.file, join(opts.downloadsDir, 'cartoon/exstyle_code.npy'));
    assert.match(error.message, /exstyle_code\.npy: sha256 [0-9a-f]{64} does not match/);
    assert.ok(!existsSync(`${error.file}.part`) && !existsSync(error.file));
    assert.ok(!existsSync(opts.out));
  });

  it('names an unknown style before downloading anything, and skips optional files', async () => {
    const hub = await startHub({ hide: ['cartoon/sampler.pt', 'encoder_wplus.pt'] });
    const opts = options(hub.url);
    const error = await rejection(pullStyles({ ...opts, styles: ['cartoon', 'watercolor'] }));
    assert.equal(error.kind, 'not-found');
    assert.match(error.message, /no style "watercolor" in CVPR\/DualStyleGAN \(known: cartoon/);
    assert.ok(
      hub.seen.every((s) => s.method === 'HEAD'),
      'nothing downloaded',
    );

    // A stale copy must not sneak into the pack once the hub stops publishing the file.
    const stale = join(opts.downloadsDir, 'cartoon/sampler.pt');
    mkdirSync(dirname(stale), { recursive: true });
    copyFileSync(join(CHECKPOINT, 'cartoon/sampler.pt'), stale);
    const staleWPlus = join(opts.downloadsDir, 'encoder_wplus.pt');
    copyFileSync(join(CHECKPOINT, 'encoder_wplus.pt'), staleWPlus);
    const result = await pullStyles(opts);
    assert.deepEqual(
      result.missing.map((f) => f.path),
      ['encoder_wplus.pt', 'cartoon/sampler.pt'],
    );
    const cartoon = openPack(opts.out, 'cartoon').manifest;
    assert.equal(cartoon.kind === 'style' && cartoon.hasSampler, false);
    assert.ok(!existsSync(stale));
    // No W+ encoder published: no identity pack, and no error.
    assert.ok(!existsSync(staleWPlus));
    assert.deepEqual(
      listPacks(opts.out).map((p) => p.manifest.name),
      ['cartoon', 'encoder'],
    );
  });

  it('reports an unreachable hub as offline, a stalled one as a timeout', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const offline = await rejection(pullStyles(options(`http://127.0.0.1:${port}`)));
    assert.equal(offline.kind, 'offline');

    const stalled = createServer((_req, res) => res.writeHead(200, { 'content-length': 10 }));
    await new Promise<void>((done) => stalled.listen(0, '127.0.0.1', done));
    after(() => {
      stalled.closeAllConnections();
      stalled.close();
    });
    const url = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}/f`;
    const timeout = await rejection(
      downloadFile(url, join(tempDir('pull'), 'f'), { idleTimeoutMs: 100, retries: 0 }),
    );
    assert.equal(timeout.kind, 'timeout');
  });

  it('on SIGINT during the import removes the half-written pack and keeps the downloads', async () => {
    const hub = await startHub();
    const opts = options(hub.url);
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'pastiche.js');
    const args = ['models', 'pull', 'cartoon', '--hub', hub.url, '--repo', REPO];
    args.push('--out', opts.out, '--downloads', opts.downloadsDir);
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const partial = (): boolean =>
      existsSync(opts.out) && readdirSync(opts.out).some((name) => name.includes('.partial-'));
    // Waits for the importer's first temporary folder (state, not time), then interrupts it.
    let signalled = false;
    while (!signalled) {
      const finished = await Promise.race([
        exited.then(() => true),
        new Promise<false>((resolve) => setImmediate(() => resolve(false))),
      ]);
      if (finished) break;
      if (partial()) signalled = child.kill('SIGINT');
    }
    const [code, signal] = await exited;
    assert.ok(signalled, `the pull finished before a .partial folder was seen: ${stderr}`);
    assert.ok(code === 130 || signal === 'SIGINT', `exit ${code}: ${stderr}`);
    assert.match(stderr, /SIGINT: pull interrupted/);
    const left = existsSync(opts.out) ? readdirSync(opts.out).filter((n) => n.startsWith('.')) : [];
    assert.deepEqual(left, []);
    assert.ok(existsSync(join(opts.downloadsDir, 'cartoon', 'generator.pt')), 'downloads stay');
  });

  it('follows redirects only to https or the same origin', async () => {
    const hub = createServer((_req, res) => {
      res.writeHead(302, { location: 'http://localhost:1/cdn/encoder.pt' }).end();
    });
    await new Promise<void>((done) => hub.listen(0, '127.0.0.1', done));
    after(() => hub.close());
    const url = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
    const redirect = await rejection(pullStyles(options(url)));
    assert.equal(redirect.kind, 'redirect');
    assert.match(redirect.message, /refused redirect to http:\/\/localhost:1\//);
  });
});
