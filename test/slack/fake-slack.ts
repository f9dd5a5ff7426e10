/**
 * A fake Slack for the adapter tests, on node:http at 127.0.0.1: the Web API methods the
 * adapter calls (under `/api/`), the upload URL of files.uploadV2, `url_private` file
 * downloads (HTML unless the bot token is right, as Slack does), and response URLs.
 *
 * Platform rules it applies, because the adapter must cope with them:
 * - Rate tiers: `chat.update` and `chat.postMessage` allow {@link FakeSlack.perMinute} calls in
 *   any 60 s (Tier 3, about 50); past that Slack answers HTTP 429 with `Retry-After` (seconds).
 * - A file uploaded without a channel is private to the bot until a message shares it; an image
 *   block may name it (`slack_file.id`), but the first post right after the upload is refused
 *   with `invalid_blocks` ("invalid slack file") while Slack still processes the file.
 * - Slack Connect files arrive in events as `{ id, file_access: 'check_file_info' }`, without
 *   type or URL; `files.info` has the rest ({@link FakeSlack.connectFiles}).
 * - Messages and files exist: deleting an unknown one fails as Slack's does.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ApiCall {
  method: string;
  args: Record<string, unknown>;
  /** What the fake answered. */
  result: Record<string, unknown>;
  /** When it was answered (ms since the epoch). */
  at: number;
}

/** A message posted where a file was shared; the first files.info poll does not see it yet. */
interface Share {
  channel: string;
  ts: string;
  threadTs?: string;
  polls: number;
}

/** A channel the bot is not a member of: every post there fails with `not_in_channel`. */
export const OUTSIDE = 'C_OUTSIDE';

const LOGIN_PAGE =
  '<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in</body></html>';

export class FakeSlack {
  readonly calls: ApiCall[] = [];
  /** Bytes received at the upload URL, by file id. */
  readonly uploads = new Map<string, Uint8Array>();
  /** JSON bodies posted to response URLs. */
  readonly responses: Record<string, unknown>[] = [];
  /** Files served at `fileUrl(name)`. */
  readonly files = new Map<string, Uint8Array>();
  /** False: downloads answer with the login page even with the right token (no `files:read`). */
  filesScope = true;
  /** Calls allowed per method in any 60 s; others are unlimited here. */
  readonly perMinute = new Map<string, number>([
    ['chat.update', 50],
    ['chat.postMessage', 50],
  ]);
  /** Slack Connect files by id: what files.info returns for them. */
  readonly connectFiles = new Map<string, Record<string, unknown>>();
  /** `/files/<name>` answering a redirect to this URL instead of the file. */
  readonly redirects = new Map<string, string>();
  /** Answers given 429, by method. */
  readonly rateLimited = new Map<string, number>();
  /** Messages that exist, as `channel:ts`. */
  readonly messages = new Set<string>();
  /** Files uploaded with files.uploadV2 and not deleted, by id. */
  readonly uploadedFiles = new Map<string, { title?: string; processed: boolean }>();
  /** Home views published, by user. */
  readonly homes = new Map<string, Record<string, unknown>>();

  readonly #window = new Map<string, number[]>();
  readonly #shares = new Map<string, Share>();
  #clock = 0;
  #waiters = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly botToken: string,
  ) {}

  static async start(botToken: string): Promise<FakeSlack> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const fake = new FakeSlack(server, `http://127.0.0.1:${port}`, botToken);
    server.on('request', (req, res) => void fake.#handle(req, res));
    return fake;
  }

  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  fileUrl(name: string): string {
    return `${this.url}/files/${name}`;
  }

  responseUrl(id: string): string {
    return `${this.url}/response/${id}`;
  }

  /** Calls of `method` so far, optionally from index `from` of {@link calls}. */
  of(method: string, from = 0): ApiCall[] {
    return this.calls.slice(from).filter((c) => c.method === method);
  }

  /** The first call (from index `from`) matching, waiting for it up to `timeoutMs`. */
  waitFor(
    method: string,
    match: (args: Record<string, unknown>) => boolean = () => true,
    { from = 0, timeoutMs = 30_000 } = {},
  ): Promise<ApiCall> {
    return this.#until(
      () => this.of(method, from).find((c) => match(c.args)),
      timeoutMs,
      () =>
        `no ${method}; saw: ${this.calls
          .slice(from)
          .map((c) => c.method)
          .join(', ')}`,
    );
  }

  /** The first response-URL post from index `from` of {@link responses}. */
  waitForResponse(from: number, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    return this.#until(
      () => this.responses[from],
      timeoutMs,
      () => 'no response-URL post',
    );
  }

  async #until<T>(find: () => T | undefined, timeoutMs: number, what: () => string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what()} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, Math.min(left, 1000));
        function wake(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.add(wake);
      });
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const body = await read(req);
    if (url.pathname.startsWith('/files/')) return this.#download(req, res, url.pathname.slice(7));
    if (url.pathname.startsWith('/upload/')) {
      const form = await new Response(new Uint8Array(body), {
        headers: { 'content-type': req.headers['content-type'] ?? '' },
      }).formData();
      const file = form.get('body');
      if (file instanceof Blob)
        this.uploads.set(url.pathname.slice(8), new Uint8Array(await file.arrayBuffer()));
      res.end(`OK - ${body.length}`);
      return this.#wake();
    }
    if (url.pathname.startsWith('/response/')) {
      this.responses.push(JSON.parse(body.toString()) as Record<string, unknown>);
      res.end('ok');
      return this.#wake();
    }
    const method = url.pathname.replace(/^\/api\//, '');
    const args = parseArgs(body, req.headers['content-type'] ?? '');
    const retryAfter = this.#overRate(method);
    if (retryAfter !== undefined) {
      const result = { ok: false, error: 'ratelimited' };
      this.calls.push({ method, args, result, at: Date.now() });
      this.rateLimited.set(method, (this.rateLimited.get(method) ?? 0) + 1);
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(retryAfter) });
      res.end(JSON.stringify(result));
      return this.#wake();
    }
    const result =
      req.headers.authorization === `Bearer ${this.botToken}`
        ? this.#answer(method, args)
        : { ok: false, error: 'invalid_auth' };
    this.calls.push({ method, args, result, at: Date.now() });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(result));
    this.#wake();
  }

  /** Seconds until `method` may be called again, if this call is over its rate. */
  #overRate(method: string): number | undefined {
    const limit = this.perMinute.get(method);
    if (limit === undefined) return undefined;
    const now = Date.now();
    const recent = (this.#window.get(method) ?? []).filter((at) => at > now - 60_000);
    this.#window.set(method, recent);
    if (recent.length >= limit) return Math.max(1, Math.ceil((recent[0]! + 60_000 - now) / 1000));
    recent.push(now);
    return undefined;
  }

  /** A fresh minute for every method. */
  resetRates(): void {
    this.#window.clear();
  }

  /** Uses up `method`'s allowance for the next minute, as a busy workspace would. */
  exhaust(method: string): void {
    const limit = this.perMinute.get(method) ?? 0;
    this.#window.set(
      method,
      Array.from({ length: limit }, () => Date.now()),
    );
  }

  #answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    const ok = { ok: true };
    const channel = args.channel ?? args.channel_id;
    if (channel === OUTSIDE && method !== 'views.open')
      return { ok: false, error: 'not_in_channel' };
    switch (method) {
      case 'auth.test':
        return { ...ok, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1', user: 'pastiche' };
      case 'views.open':
        return { ...ok, view: { id: `V${this.#tick()}` } };
      case 'views.publish':
        this.homes.set(String(args.user_id), args.view as Record<string, unknown>);
        return { ...ok, view: { id: `V${this.#tick()}` } };
      case 'chat.postMessage': {
        const refused = this.#checkFiles(args.blocks);
        if (refused) return refused;
        const ts = this.#ts();
        this.messages.add(`${String(args.channel)}:${ts}`);
        return { ...ok, channel: args.channel, ts };
      }
      case 'chat.update':
        if (!this.messages.has(`${String(args.channel)}:${String(args.ts)}`))
          return { ok: false, error: 'message_not_found' };
        return { ...ok, channel: args.channel, ts: args.ts };
      case 'chat.postEphemeral':
        return { ...ok, message_ts: this.#ts() };
      case 'files.getUploadURLExternal': {
        const id = `F${this.#tick()}`;
        return { ...ok, file_id: id, upload_url: `${this.url}/upload/${id}` };
      }
      case 'files.completeUploadExternal': {
        const files = args.files as { id: string; title?: string }[];
        for (const file of files) {
          this.uploadedFiles.set(file.id, {
            ...(file.title && { title: file.title }),
            processed: false,
          });
          if (args.channel_id === undefined) continue;
          this.#shares.set(file.id, {
            channel: String(args.channel_id),
            ts: this.#ts(),
            ...(typeof args.thread_ts === 'string' && { threadTs: args.thread_ts }),
            polls: 0,
          });
        }
        return { ...ok, files };
      }
      case 'files.info': {
        const id = String(args.file);
        const connect = this.connectFiles.get(id);
        if (connect) return { ...ok, file: connect };
        const share = this.#shares.get(id);
        if (!share) return { ok: false, error: 'file_not_found' };
        // Sharing is asynchronous: the first poll sees no message yet.
        const shares =
          share.polls++ === 0
            ? {}
            : { public: { [share.channel]: [{ ts: share.ts, thread_ts: share.threadTs }] } };
        return { ...ok, file: { id, shares } };
      }
      case 'chat.delete':
        return this.messages.delete(`${String(args.channel)}:${String(args.ts)}`)
          ? ok
          : { ok: false, error: 'message_not_found' };
      case 'files.delete':
        return this.uploadedFiles.delete(String(args.file))
          ? ok
          : { ok: false, error: 'file_not_found' };
      case 'reactions.add':
        return ok;
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  /** `invalid_blocks` for an image block naming a file that is unknown or still processing. */
  #checkFiles(blocks: unknown): Record<string, unknown> | undefined {
    const list = Array.isArray(blocks) ? (blocks as { slack_file?: { id?: string } }[]) : [];
    for (const [i, block] of list.entries()) {
      const id = block.slack_file?.id;
      if (id === undefined) continue;
      const file = this.uploadedFiles.get(id);
      if (file && file.processed) continue;
      // Processing ends by the next look: the first post after an upload is the one refused.
      if (file) file.processed = true;
      const error = `invalid slack file [json-pointer:/blocks/${i}/slack_file]`;
      return { ok: false, error: 'invalid_blocks', errors: [error] };
    }
    return undefined;
  }

  #download(req: IncomingMessage, res: ServerResponse, name: string): void {
    const location = this.redirects.get(name);
    if (location) {
      res.writeHead(302, { location });
      res.end();
      return;
    }
    const bytes = this.files.get(name);
    const authorised = req.headers.authorization === `Bearer ${this.botToken}`;
    if (!authorised || !this.filesScope || !bytes) {
      // What Slack does without the token or the scope: 200 and its sign-in page.
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(LOGIN_PAGE);
      return;
    }
    res.setHeader('content-type', 'application/octet-stream');
    res.end(bytes);
  }

  #wake(): void {
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  #tick(): number {
    return ++this.#clock;
  }

  #ts(): string {
    return `${1_700_000_000 + this.#tick()}.000100`;
  }
}

async function read(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The Web API client sends form fields, JSON-encoding objects and arrays. */
function parseArgs(body: Buffer, type: string): Record<string, unknown> {
  if (type.startsWith('application/json'))
    return JSON.parse(body.toString()) as Record<string, unknown>;
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body.toString())) {
    args[key] = /^[[{]/.test(value) ? JSON.parse(value) : value;
  }
  return args;
}
