/**
 * Where one command's replies appear. An interaction answers through its webhook while the
 * token lives (15 minutes), then through the channel with the bot token; a reaction has no
 * interaction and always uses the channel.
 */
import {
  DiscordAPIError,
  MessageFlags,
  RESTJSONErrorCodes,
  type Message,
  type RepliableInteraction,
  type SendableChannels,
} from 'discord.js';
import { DEFAULT_UPLOAD_LIMIT } from './fit.ts';
import { textMessage, type Outgoing } from './render.ts';

export interface Surface {
  /** The largest file this surface can post, in bytes. */
  readonly uploadLimit: number;
  /** Shows the command's one message: posted the first time, edited after. Returns its id. */
  show(message: Outgoing): Promise<string | undefined>;
  /** A further message, for a second reply of the same command. */
  add(message: Outgoing): Promise<string | undefined>;
  /** A failure, ephemeral where possible; the status message goes away. */
  fail(text: string): Promise<void>;
}

/** Interaction tokens last 15 minutes; the margin leaves time for the last edit to land. */
const TOKEN_LIFETIME_MS = 15 * 60_000;
const TOKEN_MARGIN_MS = 60_000;

/** The webhook of the interaction is gone (token expired) or its message was deleted. */
function webhookGone(error: unknown): boolean {
  return (
    error instanceof DiscordAPIError &&
    [
      RESTJSONErrorCodes.InvalidWebhookToken,
      RESTJSONErrorCodes.UnknownWebhook,
      RESTJSONErrorCodes.UnknownMessage,
    ].includes(error.code as RESTJSONErrorCodes)
  );
}

/** Replies that must not ping anyone (the result of a re-roll quotes the original). */
const QUIET = { parse: [] as const, repliedUser: false };

/** A message in a channel, posted and edited with the bot token. */
export class ChannelSurface implements Surface {
  readonly uploadLimit = DEFAULT_UPLOAD_LIMIT;
  #message: Message | undefined;

  constructor(
    private readonly channel: SendableChannels,
    private readonly o: { userId: string; replyTo?: string },
  ) {}

  async show(message: Outgoing): Promise<string> {
    this.#message = this.#message
      ? await this.#message.edit({ ...message, attachments: [] })
      : await this.#send(message);
    return this.#message.id;
  }

  async add(message: Outgoing): Promise<string> {
    return (await this.#send(message)).id;
  }

  async fail(text: string): Promise<void> {
    const status = this.#message;
    this.#message = undefined;
    await status?.delete().catch(() => undefined);
    // No ephemeral messages without an interaction: name the user, so they know it is theirs.
    await this.#send(textMessage(`<@${this.o.userId}> ${text}`), [this.o.userId]);
  }

  #send(message: Outgoing, users: string[] = []): Promise<Message> {
    const { replyTo } = this.o;
    return this.channel.send({
      ...message,
      allowedMentions: { ...QUIET, users },
      ...(replyTo && { reply: { messageReference: replyTo, failIfNotExists: false } }),
    });
  }
}

/** The deferred reply of an interaction; falls back to the channel once the token is gone. */
export class InteractionSurface implements Surface {
  readonly uploadLimit: number;
  readonly #deadline = Date.now() + TOKEN_LIFETIME_MS - TOKEN_MARGIN_MS;
  #originalId: string | undefined;
  #channel: ChannelSurface | undefined;

  constructor(
    private readonly interaction: RepliableInteraction,
    private readonly log: (line: string) => void,
  ) {
    this.uploadLimit = interaction.attachmentSizeLimit ?? DEFAULT_UPLOAD_LIMIT;
  }

  async show(message: Outgoing): Promise<string | undefined> {
    const sent = await this.#webhook(async () => {
      const reply = await this.interaction.editReply({ ...message, attachments: [] });
      return (this.#originalId = reply.id);
    });
    return sent.ok ? sent.value : (await this.#fallback())?.show(message);
  }

  async add(message: Outgoing): Promise<string | undefined> {
    const flags = this.interaction.ephemeral ? MessageFlags.Ephemeral : undefined;
    const sent = await this.#webhook(
      async () => (await this.interaction.followUp({ ...message, flags })).id,
    );
    return sent.ok ? sent.value : (await this.#fallback())?.add(message);
  }

  async fail(text: string): Promise<void> {
    if (this.interaction.ephemeral) {
      await this.show(textMessage(text));
      return;
    }
    // The deferred reply is public (fixed at defer time): say it privately, drop the public one.
    const sent = await this.#webhook(async () => {
      await this.interaction.followUp({ ...textMessage(text), flags: MessageFlags.Ephemeral });
      await this.interaction.deleteReply().catch((e: unknown) => this.log(`delete reply: ${e}`));
    });
    if (!sent.ok) await (await this.#fallback())?.fail(text);
  }

  /** Runs a webhook call unless the token is known to be gone; `ok: false` when it is. */
  async #webhook<T>(call: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> {
    if (this.#channel || Date.now() > this.#deadline) return { ok: false };
    try {
      return { ok: true, value: await call() };
    } catch (error) {
      if (!webhookGone(error)) throw error;
      return { ok: false };
    }
  }

  /** The channel, once; removes the stale status message. Ephemeral replies have no fallback. */
  async #fallback(): Promise<ChannelSurface | undefined> {
    if (this.#channel) return this.#channel;
    const { interaction } = this;
    if (interaction.ephemeral) {
      this.log(`discord: interaction ${interaction.id} expired before its ephemeral reply`);
      return undefined;
    }
    const channel =
      interaction.channel ??
      (interaction.channelId
        ? await interaction.client.channels.fetch(interaction.channelId)
        : null);
    if (!channel?.isSendable()) {
      this.log(`discord: interaction ${interaction.id} expired and its channel is out of reach`);
      return undefined;
    }
    this.#channel = new ChannelSurface(channel, { userId: interaction.user.id });
    if (this.#originalId) {
      await channel.messages.delete(this.#originalId).catch(() => undefined);
    }
    return this.#channel;
  }
}
