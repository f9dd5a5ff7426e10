/**
 * A fake Discord on 127.0.0.1: the REST routes the adapter uses, the gateway (fake-gateway.ts)
 * and a CDN for attachment bytes, so the real discord.js client can be driven end to end.
 * Every REST request is recorded; tests wait for the ones they expect.
 */
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  InteractionResponseType,
  SnowflakeUtil,
  type APIAttachment,
  type APIMessage,
  type APIUser,
  type GatewayDispatchEvents,
} from 'discord.js';
import { FakeGateway, guildCreate, type GatewayWorld } from './fake-gateway.ts';

export interface UploadedFile {
  name: string;
  bytes: Uint8Array;
}

export interface RecordedRequest {
  method: string;
  /** Without the `/api/v10` prefix: `/channels/1/messages`. */
  path: string;
  /** The JSON body, or a multipart request's `payload_json`. */
  body: Record<string, unknown> | undefined;
  files: UploadedFile[];
  status: number;
  /** When it was answered, `Date.now()`. */
  at: number;
}

interface Canned {
  method: string;
  path: RegExp;
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** How many requests get this answer; default 1. */
  times?: number;
}

type Handler = (
  req: RecordedRequest,
  match: RegExpMatchArray,
) => { status: number; body?: unknown };

export const snowflake = (): string => SnowflakeUtil.generate().toString();

export const user = (id: string, name: string, bot = false): APIUser => ({
  id,
  username: name,
  global_name: name,
  discriminator: '0',
  avatar: null,
  ...(bot && { bot: true }),
});

export class FakeDiscord {
  readonly appId = snowflake();
  readonly bot = user(snowflake(), 'Pastiche', true);
  readonly guildId = snowflake();
  readonly channelId = snowflake();
  readonly requests: RecordedRequest[] = [];
  readonly messages = new Map<string, APIMessage>();
  readonly gateway: FakeGateway;
  readonly #events = new EventEmitter();
  readonly #cdn = new Map<string, { bytes: Uint8Array; type: string }>();
  readonly #canned: Canned[] = [];
  /** Interaction token → the id of its original response message. */
  readonly #originals = new Map<string, string>();
  readonly #routes: [string, RegExp, Handler][];
  #base = '';

  private constructor(private readonly server: Server) {
    this.gateway = new FakeGateway(() => this.#world());
    this.#routes = this.#table();
  }

  static async start(): Promise<FakeDiscord> {
    const server = createServer();
    const fake = new FakeDiscord(server);
    server.on('request', (req, res) => void fake.#handle(req, res));
    server.on('upgrade', (req, socket, head) => fake.gateway.upgrade(req, socket, head));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    fake.#base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return fake;
  }

  /** The `rest.api` option for discord.js. */
  get api(): string {
    return `${this.#base}/api`;
  }

  get base(): string {
    return this.#base;
  }

  /** Serves `bytes` from the fake CDN; returns the URL. */
  serve(path: string, bytes: Uint8Array, type = 'image/png'): string {
    this.#cdn.set(path, { bytes, type });
    return `${this.#base}${path}`;
  }

  /** Answers the next request matching `method path` with this response instead. */
  failNext(canned: Canned): void {
    this.#canned.push(canned);
  }

  dispatch(t: GatewayDispatchEvents, d: unknown): void {
    this.gateway.dispatch({ t, d });
  }

  /** The original response message of an interaction, by its token. */
  original(token: string): APIMessage {
    const message = this.messages.get(this.#originals.get(token) ?? '');
    if (!message) throw new Error(`no original response for ${token}`);
    return message;
  }

  /** Stores a message someone else posted, as if it were in the channel. */
  postAs(author: APIUser, data: Partial<APIMessage>): APIMessage {
    const message = this.#message(this.channelId, author, data);
    this.messages.set(message.id, message);
    return message;
  }

  /** The first request from `from` on that matches, waiting up to `timeoutMs`. */
  async waitFor(
    match: (r: RecordedRequest) => boolean,
    { from = 0, timeoutMs = 20_000, what = 'request' } = {},
  ): Promise<RecordedRequest> {
    const found = this.requests.slice(from).find(match);
    if (found) return found;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#events.off('request', check);
        reject(new Error(`timed out waiting for ${what}; saw:\n${this.describe(from)}`));
      }, timeoutMs);
      const check = (r: RecordedRequest): void => {
        if (!match(r)) return;
        clearTimeout(timer);
        this.#events.off('request', check);
        resolve(r);
      };
      this.#events.on('request', check);
    });
  }

  /** The requests since `from`, one line each, for failure messages. */
  describe(from = 0): string {
    return this.requests
      .slice(from)
      .map((r) => `  ${r.status} ${r.method} ${r.path} ${JSON.stringify(r.body)?.slice(0, 160)}`)
      .join('\n');
  }

  async close(): Promise<void> {
    await this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #world(): GatewayWorld {
    return {
      appId: this.appId,
      bot: this.bot,
      url: `ws://127.0.0.1:${new URL(this.#base).port}/gateway`,
      guild: guildCreate({ id: this.guildId, channelId: this.channelId, ownerId: this.bot.id }),
    };
  }

  #message(channelId: string, author: APIUser, data: Partial<APIMessage>): APIMessage {
    return {
      id: snowflake(),
      channel_id: channelId,
      author,
      content: '',
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: [],
      pinned: false,
      type: 0,
      components: [],
      ...data,
    };
  }

  /** A message as the bot writes it: payload fields, and uploaded files as attachments. */
  #write(channelId: string, req: RecordedRequest, existing?: APIMessage): APIMessage {
    const body = req.body ?? {};
    const kept = (existing?.attachments ?? []).filter(
      (a) =>
        !Array.isArray(body.attachments) ||
        (body.attachments as { id: unknown }[]).some((b) => String(b.id) === a.id),
    );
    const added = req.files.map((file): APIAttachment => {
      const id = snowflake();
      const url = this.serve(`/cdn/attachments/${channelId}/${id}/${file.name}`, file.bytes);
      return { id, filename: file.name, size: file.bytes.length, url, proxy_url: url };
    });
    const fields: Partial<APIMessage> = {};
    for (const key of ['content', 'embeds', 'components', 'flags'] as const) {
      if (key in body) Object.assign(fields, { [key]: body[key] });
    }
    const message = existing
      ? { ...existing, ...fields, edited_timestamp: new Date().toISOString() }
      : this.#message(channelId, this.bot, fields);
    message.attachments = [...kept, ...added];
    this.messages.set(message.id, message);
    return message;
  }

  #table(): [string, RegExp, Handler][] {
    const found = (id: string | undefined): { status: number; body?: unknown } => {
      const message = id ? this.messages.get(id) : undefined;
      return message
        ? { status: 200, body: message }
        : { status: 404, body: { code: 10008, message: 'Unknown Message' } };
    };
    const original = (token: string | undefined): string | undefined =>
      token ? this.#originals.get(token) : undefined;
    return [
      [
        'GET',
        /^\/gateway\/bot$/,
        () => ({
          status: 200,
          body: {
            url: this.#world().url,
            shards: 1,
            session_start_limit: {
              total: 1000,
              remaining: 999,
              reset_after: 0,
              max_concurrency: 1,
            },
          },
        }),
      ],
      [
        'POST',
        /^\/interactions\/(\d+)\/([^/]+)\/callback$/,
        (req, [, , token]) => {
          const type = req.body?.type;
          const data = (req.body?.data ?? {}) as Record<string, unknown>;
          if (
            type === InteractionResponseType.DeferredChannelMessageWithSource ||
            type === InteractionResponseType.ChannelMessageWithSource
          ) {
            const message = this.#write(this.channelId, { ...req, body: data });
            this.#originals.set(token!, message.id);
          }
          return { status: 204 };
        },
      ],
      [
        'PATCH',
        /^\/webhooks\/(\d+)\/([^/]+)\/messages\/@original$/,
        (req, [, , token]) => {
          const id = original(token);
          const existing = id ? this.messages.get(id) : undefined;
          if (!existing) return found(id);
          return { status: 200, body: this.#write(existing.channel_id, req, existing) };
        },
      ],
      [
        'DELETE',
        /^\/webhooks\/(\d+)\/([^/]+)\/messages\/@original$/,
        (_req, [, , token]) => {
          const id = original(token);
          return id && this.messages.delete(id) ? { status: 204 } : found(undefined);
        },
      ],
      [
        'POST',
        /^\/webhooks\/(\d+)\/([^/]+)$/,
        (req) => ({ status: 200, body: this.#write(this.channelId, req) }),
      ],
      ['GET', /^\/channels\/(\d+)\/messages\/(\d+)$/, (_req, [, , id]) => found(id)],
      [
        'POST',
        /^\/channels\/(\d+)\/messages$/,
        (req, [, channel]) => ({ status: 200, body: this.#write(channel!, req) }),
      ],
      [
        'PATCH',
        /^\/channels\/(\d+)\/messages\/(\d+)$/,
        (req, [, channel, id]) => {
          const existing = this.messages.get(id!);
          return existing
            ? { status: 200, body: this.#write(channel!, req, existing) }
            : found(undefined);
        },
      ],
      [
        'DELETE',
        /^\/channels\/(\d+)\/messages\/(\d+)$/,
        (_req, [, , id]) => (this.messages.delete(id!) ? { status: 204 } : found(undefined)),
      ],
      [
        'DELETE',
        /^\/channels\/(\d+)\/messages\/(\d+)\/reactions\/[^/]+\/\d+$/,
        () => ({ status: 204 }),
      ],
      [
        'PUT',
        /^\/applications\/(\d+)(?:\/guilds\/\d+)?\/commands$/,
        (req) => ({
          status: 200,
          body: (req.body as unknown as unknown[]).map((c) => ({
            id: snowflake(),
            ...(c as object),
          })),
        }),
      ],
    ];
  }

  #record(request: RecordedRequest): void {
    request.at = Date.now();
    this.requests.push(request);
    this.#events.emit('request', request);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.#base);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const cdn = this.#cdn.get(url.pathname);
    if (req.method === 'GET' && cdn) {
      // Recorded too, so a test can see that an interaction was deferred before the download.
      this.#record({
        method: 'GET',
        path: url.pathname,
        body: undefined,
        files: [],
        status: 200,
        at: 0,
      });
      res.writeHead(200, { 'content-type': cdn.type, 'content-length': cdn.bytes.length });
      res.end(cdn.bytes);
      return;
    }
    // discord.js encodes `@original` and reaction emoji in the path.
    const path = decodeURIComponent(url.pathname.replace(/^\/api\/v10/, ''));
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      ...(await parseBody(raw, String(req.headers['content-type'] ?? ''))),
      status: 0,
      at: 0,
    };
    const cannedAt = this.#canned.findIndex(
      (c) => c.method === recorded.method && c.path.test(path),
    );
    let answer: { status: number; body?: unknown; headers?: Record<string, string> };
    if (cannedAt >= 0) {
      answer = this.#canned[cannedAt]!;
      const left = (this.#canned[cannedAt]!.times ?? 1) - 1;
      if (left > 0) this.#canned[cannedAt]!.times = left;
      else this.#canned.splice(cannedAt, 1);
    } else {
      const route = this.#routes.find(([m, re]) => m === recorded.method && re.test(path));
      answer = route
        ? route[2](recorded, path.match(route[1])!)
        : {
            status: 404,
            body: { code: 0, message: `fake Discord has no ${recorded.method} ${path}` },
          };
    }
    recorded.status = answer.status;
    this.#record(recorded);
    const json = answer.body === undefined ? undefined : JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      ...(json !== undefined && { 'content-type': 'application/json' }),
      ...answer.headers,
    });
    res.end(json);
  }
}

/** JSON, or multipart with `payload_json` and `files[n]` (what discord.js sends with uploads). */
async function parseBody(
  raw: Buffer,
  type: string,
): Promise<Pick<RecordedRequest, 'body' | 'files'>> {
  if (raw.length === 0) return { body: undefined, files: [] };
  if (!type.startsWith('multipart/form-data')) {
    return { body: JSON.parse(raw.toString('utf8')) as Record<string, unknown>, files: [] };
  }
  const form = await new Response(new Uint8Array(raw), {
    headers: { 'content-type': type },
  }).formData();
  const files: UploadedFile[] = [];
  let body: Record<string, unknown> | undefined;
  for (const [name, value] of form) {
    if (typeof value === 'string') {
      if (name === 'payload_json') body = JSON.parse(value) as Record<string, unknown>;
    } else {
      files.push({ name: value.name, bytes: new Uint8Array(await value.arrayBuffer()) });
    }
  }
  return { body, files };
}
