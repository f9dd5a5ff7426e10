/**
 * The gateway half of the fake Discord: just enough of the v10 protocol for discord.js to log in
 * (Hello, Identify → READY + GUILD_CREATE, heartbeats) and receive the dispatches a test sends.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  GatewayDispatchEvents,
  GatewayOpcodes,
  type APIUser,
  type GatewayDispatchPayload,
} from 'discord.js';
import { WebSocketServer, type WebSocket } from 'ws';

export interface GatewayWorld {
  appId: string;
  bot: APIUser;
  /** A GUILD_CREATE payload: loosely typed, only the fields discord.js reads are filled in. */
  guild: { id: string } & Record<string, unknown>;
  url: string;
}

/** A dispatch before its sequence number: the name and the data of one event. */
type Dispatch = { t: GatewayDispatchPayload['t']; d: unknown };

export class FakeGateway {
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #sockets = new Set<WebSocket>();
  #seq = 0;
  /** Identifies seen, so a test can tell a restarted client logged in again. */
  identifies = 0;

  constructor(private readonly world: () => GatewayWorld) {
    this.#wss.on('connection', (socket) => this.#accept(socket));
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#wss.emit('connection', ws, req));
  }

  /** Sends one event to every identified client, with the next sequence number. */
  dispatch(event: Dispatch): void {
    for (const socket of this.#sockets) this.#send(socket, event);
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #accept(socket: WebSocket): void {
    // Discord's own interval. A short one made discord.js declare the connection a zombie and
    // reconnect whenever inference kept the event loop busy for a second (seen under CI load),
    // and this fake does not implement Resume.
    socket.send(JSON.stringify({ op: GatewayOpcodes.Hello, d: { heartbeat_interval: 41_250 } }));
    socket.on('message', (raw) => {
      const { op } = JSON.parse(String(raw)) as { op: GatewayOpcodes };
      if (op === GatewayOpcodes.Heartbeat) {
        socket.send(JSON.stringify({ op: GatewayOpcodes.HeartbeatAck }));
      } else if (op === GatewayOpcodes.Identify) {
        this.identifies++;
        this.#ready(socket);
      }
    });
    socket.on('close', () => this.#sockets.delete(socket));
  }

  #ready(socket: WebSocket): void {
    const w = this.world();
    this.#send(socket, {
      t: GatewayDispatchEvents.Ready,
      d: {
        v: 10,
        user: w.bot,
        guilds: [{ id: w.guild.id, unavailable: true }],
        session_id: `session-${this.identifies}`,
        resume_gateway_url: w.url,
        shard: [0, 1],
        application: { id: w.appId, flags: 0 },
      },
    });
    this.#send(socket, { t: GatewayDispatchEvents.GuildCreate, d: w.guild });
    this.#sockets.add(socket);
  }

  #send(socket: WebSocket, event: Dispatch): void {
    socket.send(JSON.stringify({ op: GatewayOpcodes.Dispatch, s: ++this.#seq, ...event }));
  }
}

/**
 * A GUILD_CREATE for a guild with one text channel, the bot as a member (so the client can work
 * out its permissions) and an @everyone role that grants nothing: the channel's overwrite for
 * the bot says what it may do.
 */
export function guildCreate(ids: {
  id: string;
  ownerId: string;
  bot: APIUser;
  channel: Record<string, unknown>;
}): GatewayWorld['guild'] {
  return {
    id: ids.id,
    name: 'Fake guild',
    icon: null,
    splash: null,
    discovery_splash: null,
    owner_id: ids.ownerId,
    region: '',
    afk_channel_id: null,
    afk_timeout: 60,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: [
      {
        id: ids.id,
        name: '@everyone',
        color: 0,
        hoist: false,
        icon: null,
        unicode_emoji: null,
        position: 0,
        permissions: '0',
        managed: false,
        mentionable: false,
        flags: 0,
      },
    ],
    emojis: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    preferred_locale: 'en-US',
    public_updates_channel_id: null,
    nsfw_level: 0,
    stickers: [],
    premium_progress_bar_enabled: false,
    hub_type: null,
    safety_alerts_channel_id: null,
    incidents_data: null,
    channels: [ids.channel],
    members: [
      {
        user: ids.bot,
        roles: [],
        joined_at: new Date(0).toISOString(),
        deaf: false,
        mute: false,
        flags: 0,
      },
    ],
  };
}
