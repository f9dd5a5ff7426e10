/**
 * Re-rolls by reaction on the bot's result messages: 🎲 or 🔁 a new style, 🧬 structure only,
 * 🎨 colour only. The job comes from the message → job index in keyv (so it works after a
 * restart); reactions by bots and on other messages are ignored without a single request.
 * A reaction has no interaction to answer privately: a refusal is silent (the reaction is
 * removed where the bot may), and nothing is tried that Discord would refuse (each 403 counts
 * towards its invalid-request ban).
 */
import {
  PermissionFlagsBits,
  type Client,
  type GatewayMessageReactionAddDispatchData,
  type MessageReaction,
  type PartialMessageReaction,
  type PartialUser,
  type TextBasedChannel,
  type User,
} from 'discord.js';
import type { RerollMode } from '../../commands/index.ts';
import { callerOf, jobView, type Deps } from './context.ts';
import { botMay, botPermissionsIn, missingNames, neededPermissions } from './permissions.ts';
import { ChannelSurface } from './surface.ts';

const MODES: Readonly<Record<string, RerollMode>> = {
  '🎲': 'style',
  '🔁': 'style',
  '🧬': 'structure',
  '🎨': 'color',
};

/** One reaction, from discord.js's event or from the raw gateway event. */
interface ReactionEvent {
  emoji: string | null;
  messageId: string;
  channel: TextBasedChannel;
  guildId: string | null;
  user: Pick<User, 'id' | 'bot'> & { displayName?: string | null };
  /** Removes the user's reaction. */
  remove(): Promise<unknown>;
}

/** Handles one reaction at a time per (message, user, emoji). */
export class ReactionHandler {
  /** Keys of reactions being handled: a duplicate event while one runs is dropped. */
  readonly #inFlight = new Set<string>();

  constructor(private readonly deps: Deps) {}

  /** discord.js's `messageReactionAdd`. */
  handle(
    reaction: MessageReaction | PartialMessageReaction,
    user: User | PartialUser,
  ): Promise<void> {
    const { message } = reaction;
    return this.#handle({
      emoji: reaction.emoji.name,
      messageId: message.id,
      channel: message.channel,
      guildId: message.guildId,
      user: { id: user.id, bot: user.bot ?? false, displayName: user.displayName },
      remove: () => reaction.users.remove(user.id),
    });
  }

  /**
   * A raw MESSAGE_REACTION_ADD in a DM whose channel is not cached (after a restart): discord.js
   * cannot build a channel from it (no type, no recipients) and drops it, so it is fetched.
   */
  async handleUncachedDm(client: Client, d: GatewayMessageReactionAddDispatchData): Promise<void> {
    if (d.user_id === client.user?.id || !MODES[normalise(d.emoji.name)]) return;
    const channel = await client.channels.fetch(d.channel_id);
    if (!channel?.isTextBased()) return;
    await this.#handle({
      emoji: d.emoji.name,
      messageId: d.message_id,
      channel,
      guildId: null,
      // A DM reaction carries only the user's id; bots cannot DM a bot, so it is a person.
      user: { id: d.user_id, bot: false },
      remove: async () => undefined,
    });
  }

  async #handle(event: ReactionEvent): Promise<void> {
    const { user, channel } = event;
    if (user.bot || user.id === channel.client.user.id) return;
    const emoji = normalise(event.emoji);
    const mode = MODES[emoji];
    if (!mode) return;
    const key = `${event.messageId}:${user.id}:${emoji}`;
    if (this.#inFlight.has(key)) return;
    this.#inFlight.add(key);
    try {
      const jobId = await this.deps.results.jobOf(event.messageId);
      if (!jobId || !channel.isSendable()) return;
      const { log } = this.deps;
      // Removed once handled, so the next re-roll is a fresh add: only where the bot may
      // (Manage Messages; never in a DM, where no bot may remove someone's reaction).
      const mayRemove =
        event.guildId !== null && botMay(channel, PermissionFlagsBits.ManageMessages);
      const removeReaction = async (): Promise<void> => {
        if (mayRemove) {
          await event.remove().catch((e: unknown) => log(`discord: remove reaction: ${e}`));
        }
      };
      if (event.guildId !== null) {
        const have = botPermissionsIn(channel);
        const needed = neededPermissions({ channelFallback: true, thread: channel.isThread() });
        const missing = have ? missingNames(have, needed) : ['(unknown)'];
        if (missing.length > 0) {
          log(`discord: reaction in ${channel.id} ignored: missing ${missing.join(', ')}`);
          return;
        }
      }
      const caller = callerOf(user, channel.id, event.guildId);
      const input = { jobId, mode };
      const refusal = await this.deps.commands.check(caller, { command: 'reroll', ...input });
      if (refusal) {
        // No private answer without an interaction: a public refusal would be noise.
        log(`discord: reaction re-roll of ${jobId} refused: ${refusal.code}`);
        await removeReaction();
        return;
      }
      const surface = new ChannelSurface(channel, { userId: user.id, replyTo: event.messageId });
      const view = jobView(surface, this.deps, { caller, channel: () => channel });
      await this.deps.commands.reroll(caller, input, view.sink);
      await view.done();
      await removeReaction();
    } finally {
      this.#inFlight.delete(key);
    }
  }
}

/** Some keyboards add the emoji variation selector (U+FE0F); it names the same reaction. */
const normalise = (emoji: string | null): string => (emoji ?? '').replaceAll('\uFE0F', '');
