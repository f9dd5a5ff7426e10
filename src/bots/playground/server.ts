/**
 * The playground: a chat-like page on 127.0.0.1 for trying Pastiche without Discord or Slack.
 * A thin adapter: a session cookie becomes the {@link Caller}, uploads become command inputs,
 * and replies stream back over Server-Sent Events.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Commands } from '../../commands/index.ts';
import { liveness } from '../../health-server.ts';
import type { EncodedImage } from '../../engine/index.ts';
import { loadAssets, type Asset } from './assets.ts';
import { CommandRoutes, playgroundCaller } from './commands.ts';
import { DEFAULT_EVENT_LIMITS, EventHub, type EventLimits } from './events.ts';
import { allowedHosts } from './hosts.ts';
import { cookie, HttpError, sendBytes, sendJson } from './http.ts';
import { ImageStore } from './images.ts';
import { DEFAULT_SESSION_LIMITS, Sessions, type SessionLimits } from './sessions.ts';
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
  /** What `GET /healthz` adds to `ok` (the engine's state, restarts and queue). */
  health?: () => object;
  /** `GET /readyz`, the same checks as the health server's; 404 without it. */
  ready?: () => Promise<{ ready: boolean; checks: Record<string, boolean> }>;
  /** Memory for result images; the oldest are dropped beyond it. Default 256 MB. */
  imageBudgetBytes?: number;
  /** Host names the page may be reached by besides the bind address (`playground.publicHosts`). */
  publicHosts?: readonly string[];
  /** Overrides of the session, event-stream and connection bounds (tests use small ones). */
  limits?: Partial<SessionLimits & EventLimits & ServerLimits>;
  log?: (line: string) => void;
}

/** Bounds of the HTTP server itself, against slow or numerous clients. */
export interface ServerLimits {
  /** Time to receive a request's headers, and the whole request (an upload of photo.maxBytes). */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** Idle keep-alive connections are closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections at once, event streams included. */
  maxConnections: number;
}

const DEFAULT_SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  // A 20 MB photo over a slow link; event streams are responses, which this does not bound.
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1024,
};

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
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};
const MIME: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

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
  const limits = {
    ...DEFAULT_SESSION_LIMITS,
    ...DEFAULT_EVENT_LIMITS,
    ...DEFAULT_SERVER_LIMITS,
    ...options.limits,
  };
  const assets = await loadAssets();
  // Each tells the other: a forgotten session's backlog goes; an open stream keeps it alive.
  const known: Sessions = new Sessions(limits, (id) => events.forget(id));
  const events: EventHub = new EventHub(limits, (id) => void known.use(id));

  /** The page load's session: the cookie's if it is live, else a new one set on the response. */
  const pageSession = (req: IncomingMessage, res: ServerResponse): void => {
    if (known.use(cookie(req, SESSION_COOKIE))) return;
    const fresh = known.issue(req.socket.remoteAddress ?? '');
    if (!fresh) throw new HttpError(429, 'Too many sessions from your address. Try again later.');
    res.setHeader('set-cookie', `${SESSION_COOKIE}=${fresh}; Path=/; HttpOnly; SameSite=Strict`);
  };
  /** The API's session: only one the page issued; anything else must reload the page. */
  const session = (req: IncomingMessage): string => {
    const id = known.use(cookie(req, SESSION_COOKIE));
    if (!id) throw new HttpError(401, 'Your session has expired. Reload the page.');
    return id;
  };
  const images = new ImageStore(options.imageBudgetBytes ?? 256 * 1024 * 1024);
  const routes = new CommandRoutes({
    commands: options.commands,
    events,
    images,
    maxBytes: options.maxBytes,
    log,
  });
  // Filled once the port is known; until then (never, in practice) every request is refused.
  const hosts = new Set<string>();
  let stopping = false;

  const get = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const asset: Asset | undefined = assets.get(url.pathname);
    if (asset) {
      if (url.pathname === '/') pageSession(req, res);
      return sendBytes(res, asset.body, { 'content-type': asset.type, ...PAGE_HEADERS });
    }
    // The same bodies as the health server's (health-server.ts); `/metrics` stays there, on
    // loopback, as this port may be public (`playground.publicHosts`).
    if (url.pathname === '/healthz') return sendJson(res, 200, liveness(options.health));
    if (url.pathname === '/readyz' && options.ready) {
      const body = await options.ready();
      return sendJson(res, body.ready ? 200 : 503, body);
    }
    const id = session(req);
    if (url.pathname === '/api/state') {
      const state: PlaygroundState = {
        styles: options.commands.styles(),
        ...(options.defaultPack && { defaultPack: options.defaultPack }),
        ...(options.notice && { notice: options.notice }),
      };
      return sendJson(res, 200, state);
    }
    if (url.pathname === '/api/events') {
      if (!events.canOpen(id)) throw new HttpError(429, 'Too many open tabs. Close some.');
      return events.open(id, res);
    }
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
    if (origin && originHost(origin)?.toLowerCase() !== req.headers.host?.toLowerCase())
      throw new HttpError(403, 'Cross-site request refused.');
    if (stopping) throw new HttpError(503, 'The playground is shutting down.');
    const requestId = await routes.start(req, url, session(req));
    sendJson(res, 202, { requestId });
  };

  // Timeouts are enforced on this tick; Node's default (30 s) would let a slow client linger.
  const checkEvery = Math.min(1000, limits.headersTimeoutMs);
  const server = createServer({ connectionsCheckingInterval: checkEvery }, (req, res) => {
    // Only the path matters; a target such as `//` is no URL at all and must not throw here,
    // where nothing would catch it (fuzzing found that one).
    const target = req.url?.startsWith('/') ? `http://playground${req.url}` : '';
    if (!URL.canParse(target)) {
      sendJson(res, 400, { error: 'Bad request.' });
      return;
    }
    const url = new URL(target);
    // DNS rebinding: a hostile name resolving to this server must not reach the page or API.
    if (!hosts.has((req.headers.host ?? '').toLowerCase())) {
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

  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const names = allowedHosts({
    bindHost: options.host,
    boundAddress: address,
    port,
    ...(options.publicHosts && { publicHosts: options.publicHosts }),
  });
  for (const name of names) hosts.add(name);
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
