/**
 * The playground: a chat-like page on 127.0.0.1 for trying Pastiche without Discord or Slack.
 * A thin adapter: a session cookie becomes the {@link Caller}, uploads become command inputs,
 * and replies stream back over Server-Sent Events.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Commands } from '../../commands/index.ts';
import type { EncodedImage } from '../../engine/image/encode.ts';
import { loadAssets, type Asset } from './assets.ts';
import { CommandRoutes, playgroundCaller } from './commands.ts';
import { EventHub } from './events.ts';
import { cookie, HttpError, sendBytes, sendJson } from './http.ts';
import { ImageStore } from './images.ts';
import { contactSheet } from './sheets.ts';
import type { PlaygroundState } from './wire.ts';

export interface PlaygroundOptions {
  commands: Commands;
  host: string;
  /** 0 picks a free port; {@link Playground.url} has the one chosen. */
  port: number;
  /** Largest upload accepted (`photo.maxBytes`). */
  maxBytes: number;
  /** Shown as a banner on the page (the demo pack's warning). */
  notice?: string;
  /** Pack the page selects first. */
  defaultPack?: string;
  /** What `GET /healthz` reports (the engine's state, restarts and queue); 404 without it. */
  health?: () => unknown;
  /** Memory for result images; the oldest are dropped beyond it. Default 256 MB. */
  imageBudgetBytes?: number;
  log?: (line: string) => void;
}

export interface Playground {
  url: string;
  /** Stops accepting requests; running commands go on and their replies still stream. */
  stop(): Promise<void>;
  /** Waits briefly for running commands' last replies, then ends streams and connections. */
  close(): Promise<void>;
}

/** How long `close` waits for commands still sending replies. */
const CLOSE_DRAIN_MS = 2000;
const SESSION_COOKIE = 'pastiche_session';
const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};
const MIME: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

/** The session id from the cookie, or a new one set on the response. */
function session(req: IncomingMessage, res: ServerResponse): string {
  const id = cookie(req, SESSION_COOKIE);
  if (id && SESSION_ID.test(id)) return id;
  const fresh = randomBytes(16).toString('base64url');
  res.setHeader('set-cookie', `${SESSION_COOKIE}=${fresh}; Path=/; HttpOnly; SameSite=Strict`);
  return fresh;
}

/** An image from memory; `download` names it as a file to save. */
function sendImage(res: ServerResponse, image: EncodedImage, download?: string): void {
  const headers: Record<string, string> = {
    'content-type': MIME[image.format]!,
    'cache-control': 'private, max-age=3600',
  };
  if (download) {
    const extension = image.format === 'jpeg' ? 'jpg' : image.format;
    headers['content-disposition'] = `attachment; filename="pastiche-${download}.${extension}"`;
  }
  sendBytes(res, image.bytes, headers);
}

/** The host of an Origin header; undefined for `null` (sandboxed frames) or garbage. */
const originHost = (origin: string): string | undefined =>
  URL.canParse(origin) ? new URL(origin).host : undefined;

/**
 * Starts the playground.
 *
 * @example
 * const playground = await startPlayground({ commands, host: '127.0.0.1', port: 0, maxBytes });
 * console.log(`open ${playground.url}`);
 */
export async function startPlayground(options: PlaygroundOptions): Promise<Playground> {
  const log = options.log ?? console.log;
  const assets = await loadAssets();
  const events = new EventHub();
  const images = new ImageStore(options.imageBudgetBytes ?? 256 * 1024 * 1024);
  const routes = new CommandRoutes({
    commands: options.commands,
    events,
    images,
    maxBytes: options.maxBytes,
    log,
  });
  let allowedHosts: Set<string> | undefined;
  let stopping = false;

  const get = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const asset: Asset | undefined = assets.get(url.pathname);
    if (asset) {
      if (url.pathname === '/') session(req, res);
      return sendBytes(res, asset.body, { 'content-type': asset.type, ...PAGE_HEADERS });
    }
    if (url.pathname === '/healthz' && options.health) {
      return sendJson(res, 200, options.health());
    }
    const id = session(req, res);
    if (url.pathname === '/api/state') {
      const state: PlaygroundState = {
        styles: options.commands.styles(),
        ...(options.defaultPack && { defaultPack: options.defaultPack }),
        ...(options.notice && { notice: options.notice }),
      };
      return sendJson(res, 200, state);
    }
    if (url.pathname === '/api/events') return events.open(id, res);
    if (url.pathname === '/api/sheet') {
      const pack = url.searchParams.get('pack') ?? '';
      const sheet = pack
        ? await contactSheet(options.commands, pack, playgroundCaller(id))
        : undefined;
      if (!sheet) throw new HttpError(404, 'No contact sheet for that pack.');
      return sendImage(res, sheet);
    }
    const imageId = /^\/api\/images\/([\w-]{1,100})$/.exec(url.pathname)?.[1];
    if (imageId) {
      const image = images.get(imageId, id);
      if (!image)
        throw new HttpError(404, 'That image is gone (images are kept in memory for a while).');
      return sendImage(res, image, url.searchParams.has('download') ? imageId : undefined);
    }
    throw new HttpError(404, 'Not found.');
  };

  const post = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (!routes.has(url.pathname)) throw new HttpError(404, 'Not found.');
    // Another site's page may POST to 127.0.0.1 from a visitor's browser; only our page may.
    const origin = req.headers.origin;
    if (origin && originHost(origin) !== req.headers.host)
      throw new HttpError(403, 'Cross-site request refused.');
    if (stopping) throw new HttpError(503, 'The playground is shutting down.');
    const requestId = await routes.start(req, url, session(req, res));
    sendJson(res, 202, { requestId });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://playground');
    // DNS rebinding: a hostile name resolving to 127.0.0.1 must not reach the page's API.
    if (allowedHosts && !allowedHosts.has(req.headers.host ?? '')) {
      sendJson(res, 421, { error: 'Unknown host.' });
      return;
    }
    const handle = req.method === 'GET' ? get : req.method === 'POST' ? post : undefined;
    if (!handle) {
      sendJson(res, 405, { error: 'Method not allowed.' });
      return;
    }
    handle(req, res, url).catch((error: unknown) => {
      if (res.headersSent) return void res.end();
      if (error instanceof HttpError) return sendJson(res, error.status, { error: error.message });
      log(
        `playground: ${req.method} ${url.pathname} failed: ${(error as Error).stack ?? String(error)}`,
      );
      sendJson(res, 500, { error: 'Something went wrong on our side.' });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  if (LOOPBACK.test(options.host)) {
    allowedHosts = new Set(
      ['localhost', '127.0.0.1', '[::1]', options.host].map((h) => `${h}:${port}`),
    );
  }
  const shown = options.host.includes(':') ? `[${options.host}]` : options.host;
  const closed = new Promise<void>((resolve) => server.once('close', resolve));

  return {
    url: `http://${shown}:${port}/`,
    async stop() {
      stopping = true;
      server.close();
      server.closeIdleConnections();
    },
    async close() {
      stopping = true;
      server.close();
      // The command layer has settled its jobs by now; this only lets their last replies out.
      await routes.drain(CLOSE_DRAIN_MS);
      events.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
