/**
 * A fake Discord on 127.0.0.1: the REST routes the adapter uses, the gateway (fake-gateway.ts)
 * and a CDN for attachment bytes, so the real discord.js client can be driven end to end.
 * Every REST request is recorded; tests wait for the ones they expect.
 *
 * It keeps the platform rules the adapter must respect, not just the routes:
 * - the first follow-up after a deferred response, while that response is still "thinking",
 *   ignores its `flags` and becomes the original response, with the defer's visibility;
 * - the app's permissions per channel: the interactions' `app_permissions`, the guild's roles and
 *   overwrites the client caches, and the REST routes all say the same; a message the app may not
 *   post is answered 403 / 50013 (files need Attach Files, embeds Embed Links, a channel message
 *   Send Messages), removing someone's reaction needs Manage Messages and is 403 / 50003 in a DM;
 * - interaction tokens expire 15 minutes after the interaction's snowflake time (401 / 50027);
 * - an interaction of a user-installed app (no guild install) allows 5 follow-ups (400 / 40094);
 * - 401, 403 and 429 answers are counted, as Discord counts them towards its invalid-request ban.
 *   The 3-second window of the first callback is not modelled.
 * - what a bot sends stays within Discord's size limits (fake-limits.ts), else 400 / 50035.
 */
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ChannelType,
  GatewayDispatchEvents,
  InteractionResponseType,
  MessageFlags,
  PermissionFlagsBits,
  PermissionsBitField,
  RESTJSONErrorCodes,
  SnowflakeUtil,
  type APIAttachment,
  type APIMessage,
  type APIUser,
} from 'discord.js';
import { FakeGateway, guildCreate, type GatewayWorld } from './fake-gateway.ts';
import { formBodyErrors } from './fake-limits.ts';

/** What the invite asks for, plus Add Reactions: the app's permissions in a channel by default. */
export const GUILD_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.AddReactions |
  PermissionFlagsBits.ManageMessages;

/** An app's permissions in a DM: it may post there, not manage other people's reactions. */
export const DM_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.AddReactions;

/** Interaction tokens last 15 minutes. */
export const TOKEN_LIFETIME_MS = 15 * 60_000;
/** A user-installed app's interaction allows this many follow-ups. */
export const USER_INSTALL_FOLLOW_UPS = 5;

/** What the fake knows of an interaction it dispatched. */
export interface FakeInteraction {
  channelId: string;
  /** From the interaction id's snowflake, as Discord counts the token's lifetime. */
  createdAt: number;
  /** No guild install authorises it: the follow-up limit applies. */
  userInstallOnly: boolean;
  original?: string;
  /** Deferred and neither edited nor followed up yet: the next follow-up becomes the original. */
  thinking: boolean;
  followUps: string[];
}

type Answer = { status: number; body?: unknown };
const denied = (code: RESTJSONErrorCodes, message: string): Answer => ({
  status: 403,
  body: { code, message },
});
const missing = (): Answer => denied(RESTJSONErrorCodes.MissingPermissions, 'Missing Permissions');

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
  /** The guild's owner: not the bot, so its permissions come from roles and overwrites. */
  readonly ownerId = snowflake();
  readonly requests: RecordedRequest[] = [];
  readonly messages = new Map<string, APIMessage>();
  readonly gateway: FakeGateway;
  readonly #events = new EventEmitter();
  readonly #cdn = new Map<string, { bytes: Uint8Array; type: string }>();
  readonly #canned: Canned[] = [];
  /** Interaction token → what the fake knows of it. */
  readonly #interactions = new Map<string, FakeInteraction>();
  /** DM channel id → the user at the other end. */
  readonly #dms = new Map<string, APIUser>();
  /** The app's permissions per guild channel, where not {@link GUILD_PERMISSIONS}. */
  readonly #permissions = new Map<string, bigint>();
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
    const message = this.messages.get(this.#interactions.get(token)?.original ?? '');
    if (!message) throw new Error(`no original response for ${token}`);
    return message;
  }

  /** What an interaction left that still exists: its original response, then follow-ups. */
  shown(token: string): { content: string; ephemeral: boolean; files: number }[] {
    const i = this.#interactions.get(token);
    const ids = i ? [i.original, ...i.followUps] : [];
    return ids.flatMap((id) => {
      const m = id ? this.messages.get(id) : undefined;
      if (!m) return [];
      const ephemeral = ((m.flags ?? 0) & MessageFlags.Ephemeral) !== 0;
      return [{ content: m.content, ephemeral, files: m.attachments.length }];
    });
  }

  /** Called by the payload builders: the fake learns of each interaction it dispatches. */
  interactionSent(token: string, i: Omit<FakeInteraction, 'thinking' | 'followUps'>): void {
    this.#interactions.set(token, { ...i, thinking: false, followUps: [] });
  }

  /** A DM channel between the bot and `who` (fetched by id, as after a restart). */
  openDm(who: APIUser): string {
    const id = snowflake();
    this.#dms.set(id, who);
    return id;
  }

  /** The app's permissions in a channel, as `app_permissions` and the REST checks see them. */
  permissionsIn(channelId: string): bigint {
    if (this.#dms.has(channelId)) return DM_PERMISSIONS;
    return this.#permissions.get(channelId) ?? GUILD_PERMISSIONS;
  }

  /**
   * Sets the app's permissions in the guild channel (a member overwrite for the bot) and tells
   * the client with CHANNEL_UPDATE, as Discord would.
   */
  setPermissions(channelId: string, bits: bigint, { tell = true } = {}): void {
    this.#permissions.set(channelId, bits);
    if (tell) this.dispatch(GatewayDispatchEvents.ChannelUpdate, this.#guildChannel(channelId));
  }

  /** The messages in a channel, oldest first. */
  messagesIn(channelId: string): APIMessage[] {
    return [...this.messages.values()].filter((m) => m.channel_id === channelId);
  }

  /** Requests answered 401, 403 or 429 since `from`: what Discord counts towards a ban. */
  invalidRequests(from = 0): RecordedRequest[] {
    return this.requests.slice(from).filter((r) => [401, 403, 429].includes(r.status));
  }

  /** Stores a message someone else posted, as if it were in the channel. */
  postAs(author: APIUser, data: Partial<APIMessage>, channelId = this.channelId): APIMessage {
    const message = this.#message(channelId, author, data);
    this.messages.set(message.id, message);
    return message;
  }

  /** The first request from `from` on that matches, waiting up to `timeoutMs`. */
  async waitFor(
    match: (r: RecordedRequest) => boolean,
    { from = 0, timeoutMs = 45_000, what = 'request' } = {},
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
      guild: guildCreate({
        id: this.guildId,
        ownerId: this.ownerId,
        bot: this.bot,
        channel: this.#guildChannel(this.channelId),
      }),
    };
  }

  /** The guild channel with the bot's member overwrite: all it may do, nothing else. */
  #guildChannel(id: string): Record<string, unknown> {
    const allow = this.permissionsIn(id);
    return {
      id,
      type: ChannelType.GuildText,
      guild_id: this.guildId,
      name: 'portraits',
      position: 0,
      permission_overwrites: [
        {
          id: this.bot.id,
          type: 1,
          allow: String(allow),
          deny: String(PermissionsBitField.All & ~allow),
        },
      ],
    };
  }

  /** 50013 unless the app may post `body` (and its files) there as a message of its own. */
  #mayPost(channelId: string, req: RecordedRequest, viaInteraction: boolean): Answer | undefined {
    if (this.#dms.has(channelId)) return undefined;
    const has = (bit: bigint): boolean => (this.permissionsIn(channelId) & bit) === bit;
    if (!viaInteraction && !has(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages))
      return missing();
    if (req.files.length > 0 && !has(PermissionFlagsBits.AttachFiles)) return missing();
    const embeds = req.body?.embeds;
    if (Array.isArray(embeds) && embeds.length > 0 && !has(PermissionFlagsBits.EmbedLinks))
      return missing();
    return undefined;
  }

  /** 401 / 50027 once the interaction's token has expired. */
  #expired(i: FakeInteraction | undefined): Answer | undefined {
    if (!i || Date.now() <= i.createdAt + TOKEN_LIFETIME_MS) return undefined;
    return {
      status: 401,
      body: { code: RESTJSONErrorCodes.InvalidWebhookToken, message: 'Invalid Webhook Token' },
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
    const interaction = (token: string | undefined): FakeInteraction | undefined =>
      token ? this.#interactions.get(token) : undefined;
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
          const i = interaction(token);
          if (!i) return { status: 404, body: { code: 10062, message: 'Unknown interaction' } };
          if (
            type === InteractionResponseType.DeferredChannelMessageWithSource ||
            type === InteractionResponseType.ChannelMessageWithSource
          ) {
            const message = this.#write(i.channelId, { ...req, body: data });
            i.original = message.id;
            i.thinking = type === InteractionResponseType.DeferredChannelMessageWithSource;
          }
          return { status: 204 };
        },
      ],
      [
        'PATCH',
        /^\/webhooks\/(\d+)\/([^/]+)\/messages\/@original$/,
        (req, [, , token]) => {
          const i = interaction(token);
          const gone = this.#expired(i);
          if (gone) return gone;
          const existing = i?.original ? this.messages.get(i.original) : undefined;
          if (!i || !existing) return found(undefined);
          const refused = this.#mayPost(i.channelId, req, true);
          if (refused) return refused;
          i.thinking = false;
          // The original keeps the visibility it was given when the interaction was answered.
          const body = { ...req.body, flags: existing.flags ?? 0 };
          return {
            status: 200,
            body: this.#write(existing.channel_id, { ...req, body }, existing),
          };
        },
      ],
      [
        'DELETE',
        /^\/webhooks\/(\d+)\/([^/]+)\/messages\/@original$/,
        (_req, [, , token]) => {
          const i = interaction(token);
          const gone = this.#expired(i);
          if (gone) return gone;
          if (!i?.original || !this.messages.delete(i.original)) return found(undefined);
          i.thinking = false;
          return { status: 204 };
        },
      ],
      [
        'POST',
        /^\/webhooks\/(\d+)\/([^/]+)$/,
        (req, [, , token]) => {
          const i = interaction(token);
          if (!i) return found(undefined);
          const gone = this.#expired(i);
          if (gone) return gone;
          const refused = this.#mayPost(i.channelId, req, true);
          if (refused) return refused;
          if (i.userInstallOnly && i.followUps.length >= USER_INSTALL_FOLLOW_UPS) {
            const code = RESTJSONErrorCodes.ThisInteractionHasHitTheMaximumNumberOfFollowUpMessages;
            return { status: 400, body: { code, message: 'Maximum number of follow-ups' } };
          }
          const existing = i.original ? this.messages.get(i.original) : undefined;
          if (i.thinking && existing) {
            // Discord's rule: this follow-up's flags are ignored; it becomes the original.
            i.thinking = false;
            const body = { ...req.body, flags: existing.flags ?? 0 };
            return { status: 200, body: this.#write(i.channelId, { ...req, body }, existing) };
          }
          const message = this.#write(i.channelId, req);
          i.followUps.push(message.id);
          return { status: 200, body: message };
        },
      ],
      [
        'POST',
        /^\/users\/@me\/channels$/,
        (req) => {
          const recipient = String(req.body?.recipient_id);
          const known = [...this.#dms].find(([, u]) => u.id === recipient);
          const id = known?.[0] ?? this.openDm(user(recipient, `user-${recipient}`));
          const recipients = [this.#dms.get(id)];
          return { status: 200, body: { id, type: ChannelType.DM, recipients } };
        },
      ],
      [
        'GET',
        /^\/channels\/(\d+)$/,
        (_req, [, id]) => {
          const recipient = this.#dms.get(id!);
          if (recipient) {
            return { status: 200, body: { id, type: ChannelType.DM, recipients: [recipient] } };
          }
          if (id === this.channelId) return { status: 200, body: this.#guildChannel(id) };
          return { status: 404, body: { code: 10003, message: 'Unknown Channel' } };
        },
      ],
      ['GET', /^\/channels\/(\d+)\/messages\/(\d+)$/, (_req, [, , id]) => found(id)],
      [
        'POST',
        /^\/channels\/(\d+)\/messages$/,
        (req, [, channel]) =>
          this.#mayPost(channel!, req, false) ?? {
            status: 200,
            body: this.#write(channel!, req),
          },
      ],
      [
        'PATCH',
        /^\/channels\/(\d+)\/messages\/(\d+)$/,
        (req, [, channel, id]) => {
          const existing = this.messages.get(id!);
          if (!existing) return found(undefined);
          return (
            this.#mayPost(channel!, req, false) ?? {
              status: 200,
              body: this.#write(channel!, req, existing),
            }
          );
        },
      ],
      [
        'DELETE',
        /^\/channels\/(\d+)\/messages\/(\d+)$/,
        (_req, [, , id]) => (this.messages.delete(id!) ? { status: 204 } : found(undefined)),
      ],
      [
        'DELETE',
        /^\/channels\/(\d+)\/messages\/(\d+)\/reactions\/[^/]+\/(\d+|@me)$/,
        (_req, [, channel, , who]) => {
          if (who === '@me') return { status: 204 };
          if (this.#dms.has(channel!)) {
            return denied(
              RESTJSONErrorCodes.CannotExecuteActionOnDMChannel,
              'Cannot execute action on a DM channel',
            );
          }
          const manage = PermissionFlagsBits.ManageMessages;
          return (this.permissionsIn(channel!) & manage) === manage ? { status: 204 } : missing();
        },
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
    } else if (formBodyErrors(recorded).length > 0) {
      const errors = formBodyErrors(recorded);
      answer = { status: 400, body: { code: 50035, message: 'Invalid Form Body', errors } };
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
