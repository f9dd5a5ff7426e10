/** The attachment downloader: allowed hosts only, capped while streaming, no redirects. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import {
  checkSource,
  downloadPhoto,
  IntakeError,
  type DownloadPolicy,
} from '../../src/bots/discord/download.ts';
import { loadConfig } from '../../src/config.ts';
import { UserError } from '../../src/engine/errors.ts';
import { tempDir } from '../helpers/packs.ts';

let server: Server;
let base: string;
const policy = (extra: Partial<DownloadPolicy> = {}): DownloadPolicy => ({
  hosts: ['127.0.0.1'],
  maxBytes: 1000,
  allowHttp: true,
  timeoutMs: 5000,
  ...extra,
});

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/ok') res.end(Buffer.alloc(500, 1));
    else if (req.url === '/declared-large') {
      res.writeHead(200, { 'content-length': '5000' });
      res.end(Buffer.alloc(5000));
    } else if (req.url === '/chunked-large') {
      // No content-length: the cap must hold while the bytes stream in.
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      for (let i = 0; i < 20; i++) res.write(Buffer.alloc(200));
      res.end();
    } else if (req.url === '/redirect') {
      res.writeHead(302, { location: 'http://localhost/elsewhere' }).end();
    } else if (req.url === '/empty') res.end();
    else res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const code = (expected: string) => (error: unknown) => {
  assert.ok(error instanceof IntakeError || error instanceof UserError, String(error));
  assert.equal(error.code, expected);
  return true;
};

test('only https on an allowed host (exactly, any case), within the declared size', () => {
  const hosts = ['cdn.discordapp.com'];
  const ok = (url: string, size?: number) => checkSource({ url, size }, { hosts, maxBytes: 100 });
  assert.equal(ok('https://cdn.discordapp.com/attachments/1/2/a.png', 100), undefined);
  assert.equal(ok('https://CDN.DiscordApp.com/a.png'), undefined);
  for (const url of [
    'http://cdn.discordapp.com/a.png',
    'https://cdn.discordapp.com.evil.example/a.png',
    'https://evil.example/cdn.discordapp.com/a.png',
    'file:///etc/passwd',
    'not a url',
  ]) {
    assert.equal((ok(url) as IntakeError | undefined)?.code, 'host-not-allowed', url);
  }
  assert.equal((ok('https://cdn.discordapp.com/a.png', 101) as UserError).code, 'file-too-large');
});

test('downloads into memory; refuses oversize (declared or streamed), redirects, errors', async () => {
  assert.equal((await downloadPhoto({ url: `${base}/ok` }, policy())).length, 500);
  await assert.rejects(
    downloadPhoto({ url: `${base}/declared-large` }, policy()),
    code('file-too-large'),
  );
  await assert.rejects(
    downloadPhoto({ url: `${base}/chunked-large` }, policy()),
    code('file-too-large'),
  );
  await assert.rejects(
    downloadPhoto({ url: `${base}/redirect` }, policy()),
    code('download-failed'),
  );
  await assert.rejects(
    downloadPhoto({ url: `${base}/missing` }, policy()),
    code('download-failed'),
  );
  await assert.rejects(downloadPhoto({ url: `${base}/empty` }, policy()), code('empty-file'));
  await assert.rejects(
    downloadPhoto({ url: `${base}/ok` }, policy({ allowHttp: false })),
    code('host-not-allowed'),
  );
});

test("the default hosts take a link embed's image from Discord's media proxy", () => {
  const hosts = loadConfig({ cwd: tempDir('hosts'), env: {} }).discord.cdnHosts;
  const policy = { hosts, maxBytes: 100 };
  for (const url of [
    'https://images-ext-1.discordapp.net/external/abc/https/example.com/me.jpg',
    'https://images-ext-2.discordapp.net/external/def/https/example.com/me.png',
    'https://media.discordapp.net/attachments/1/2/me.png',
  ]) {
    assert.equal(checkSource({ url }, policy), undefined, url);
  }
  assert.ok(checkSource({ url: 'https://images-ext-9.evil.example/me.jpg' }, policy));
});
