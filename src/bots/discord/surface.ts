/**
 * Where one command's replies appear. An interaction answers through its webhook while the
 * token lives (15 minutes from the interaction), then through the channel with the bot token
 * where the bot may post (a guild install, or its own DM); a reaction has no interaction and
 * always uses the channel.
 */
import {
  DiscordAPIError,
  InteractionContextType,
  MessageFlags,
  RESTJSONErrorCodes,
  type Message,
  type RepliableInteraction,
  type SendableChannels,
} from 'discord.js';
import { DEFAULT_UPLOAD_LIMIT } from './fit.ts';
import { assertMayPost, isPermissionError } from './permissions.ts';
import { textMessage, type Outgoing } from './render.ts';

export interface Surface {
  /** The largest file this surface can post, in bytes. */
  readonly uploadLimit: number;
  /**
   * Shows the command's one message: posted the first time, edited after. Returns its id.
   * `status`: a progress message (its picture, if any, is a preview, not a result).
   */
  show(message: Outgoing, kind?: 'status'): Promise<string | undefined>;
  /** A further message, for a second reply of the same command. */
  add(message: Outgoing): Promise<string | undefined>;
  /** A failure, in place of the status message, with the visibility the command already has. */
  fail(text: string): Promise<void>;
}

/** Interaction tokens last 15 minutes; the margin leaves time for the last edit to land. */
export const TOKEN_LIFETIME_MS = 15 * 60_000;
export const TOKEN_MARGIN_MS = 60_000;
/** A user-installed app's interaction allows this many follow-ups. */
const USER_INSTALL_FOLLOW_UPS = 5;

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
    private readonly o: {
      userId: string;
      replyTo?: string;
      /**
       * Results name the user (a new message, so they are notified): for an interaction whose
       * token expired, whose result no longer appears as the answer to their command.
       */
      mentionResults?: boolean;
    },
  ) {}

  async show(message: Outgoing, kind?: 'status'): Promise<string> {
    if (this.o.mentionResults && message.files.length > 0 && kind !== 'status') {
      await this.#dropStatus();
      this.#message = await this.#send(this.#mention(message), [this.o.userId]);
    } else {
      if (this.#message) assertMayPost(this.channel, message, { asBot: true });
      this.#message = this.#message
        ? await this.#message.edit({ ...message, attachments: [] })
        : await this.#send(message);
    }
    return this.#message.id;
  }

  async add(message: Outgoing): Promise<string> {
    return (await this.#send(message)).id;
  }

  async fail(text: string): Promise<void> {
    await this.#dropStatus();
    // No ephemeral messages without an interaction: name the user, so they know it is theirs.
    try {
      await this.#send(this.#mention(textMessage(text)), [this.o.userId]);
    } catch (error) {
      if (!isPermissionError(error)) throw error;
      // The channel is closed to the bot: the user still hears why, in a DM.
      await this.channel.client.users.send(this.o.userId, text);
    }
  }

  async #dropStatus(): Promise<void> {
    const status = this.#message;
    this.#message = undefined;
    await status?.delete().catch(() => undefined);
  }

  #mention(message: Outgoing): Outgoing {
    return { ...message, content: `<@${this.o.userId}> ${message.content}`.slice(0, 2000) };
  }

  #send(message: Outgoing, users: string[] = []): Promise<Message> {
    assertMayPost(this.channel, message, { asBot: true });
    const { replyTo } = this.o;
    return this.channel.send({
      ...message,
      allowedMentions: { ...QUIET, users },
      ...(replyTo && { reply: { messageReference: replyTo, failIfNotExists: false } }),
    });
  }
}

/**
 * Whether the bot itself may post where the interaction happened: in a guild that installed it,
 * or in its own DM. A user-installed app in someone else's server or a group DM may only answer
 * through the interaction.
 */
export function canPostInChannel(interaction: RepliableInteraction): boolean {
  return (
    interaction.context === InteractionContextType.BotDM ||
    (interaction.authorizingIntegrationOwners.guildId !== null &&
      interaction.context !== InteractionContextType.PrivateChannel)
  );
}

/** When the interaction's token is to be treated as gone: 15 minutes from the interaction. */
export const tokenDeadline = (interaction: RepliableInteraction): number =>
  interaction.createdTimestamp + TOKEN_LIFETIME_MS - TOKEN_MARGIN_MS;

/**
 * The deferred reply of an interaction; falls back to the channel once the token is gone, where
 * the bot may post there. Only edits the original response, but for a second reply: a
 * user-installed app's interaction allows 5 follow-ups.
 */
export class InteractionSurface implements Surface {
  readonly uploadLimit: number;
  readonly #deadline: number;
  readonly #canFallBack: boolean;
  #originalId: string | undefined;
  #channel: ChannelSurface | undefined;
  #followUps = 0;

  constructor(
    private readonly interaction: RepliableInteraction,
    private readonly log: (line: string) => void,
  ) {
    this.uploadLimit = interaction.attachmentSizeLimit ?? DEFAULT_UPLOAD_LIMIT;
    this.#deadline = tokenDeadline(interaction);
    this.#canFallBack = canPostInChannel(interaction);
  }

  async show(message: Outgoing, kind?: 'status'): Promise<string | undefined> {
    const sent = await this.#webhook(async () => {
      assertMayPost(this.interaction.channel, message, { asBot: false });
      const reply = await this.interaction.editReply({ ...message, attachments: [] });
      return (this.#originalId = reply.id);
    });
    return sent.ok ? sent.value : (await this.#fallback())?.show(message, kind);
  }

  async add(message: Outgoing): Promise<string | undefined> {
    if (!this.#canFallBack && this.#followUps >= USER_INSTALL_FOLLOW_UPS) {
      this.log(`discord: interaction ${this.interaction.id} has used its follow-ups`);
      return undefined;
    }
    const flags = this.interaction.ephemeral ? MessageFlags.Ephemeral : undefined;
    const sent = await this.#webhook(async () => {
      assertMayPost(this.interaction.channel, message, { asBot: false });
      this.#followUps++;
      return (await this.interaction.followUp({ ...message, flags })).id;
    });
    return sent.ok ? sent.value : (await this.#fallback())?.add(message);
  }

  /**
   * In place of the status. Visibility was fixed when the interaction was deferred, and the
   * first follow-up after a defer would take it too (and become the original response): a
   * private refusal is the adapter's to answer before deferring.
   */
  async fail(text: string): Promise<void> {
    const sent = await this.#webhook(async () => {
      await this.interaction.editReply({ ...textMessage(text), attachments: [] });
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
    if (interaction.ephemeral || !this.#canFallBack) {
      this.log(`discord: interaction ${interaction.id} expired and has no channel to post in`);
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
    this.#channel = new ChannelSurface(channel, {
      userId: interaction.user.id,
      mentionResults: true,
    });
    if (this.#originalId) {
      await channel.messages.delete(this.#originalId).catch(() => undefined);
    }
    return this.#channel;
  }
}
