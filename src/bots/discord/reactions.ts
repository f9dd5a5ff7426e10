/**
 * Re-rolls by reaction on the bot's result messages: 🎲 or 🔁 a new style, 🧬 structure only,
 * 🎨 colour only, 🔀 fused with a new style. The job comes from the message → job index in keyv (so it works after a
 * restart); reactions by bots and on other messages are ignored without a single request.
 */
import type { MessageReaction, PartialMessageReaction, PartialUser, User } from 'discord.js';
import type { RerollMode } from '../../commands/index.ts';
import { callerOf, jobView, type Deps } from './context.ts';
import { ChannelSurface } from './surface.ts';

const MODES: Readonly<Record<string, RerollMode>> = {
  '🎲': 'style',
  '🔁': 'style',
  '🧬': 'structure',
  '🎨': 'color',
  '🔀': 'fuse',
};

/** Handles one reaction at a time per (message, user, emoji). */
export class ReactionHandler {
  /** Keys of reactions being handled: a duplicate event while one runs is dropped. */
  readonly #inFlight = new Set<string>();

  constructor(private readonly deps: Deps) {}

  async handle(
    reaction: MessageReaction | PartialMessageReaction,
    user: User | PartialUser,
  ): Promise<void> {
    if (user.bot || user.id === reaction.client.user.id) return;
    // Some keyboards add the emoji variation selector (U+FE0F); it names the same reaction.
    const emoji = (reaction.emoji.name ?? '').replaceAll('\uFE0F', '');
    const mode = MODES[emoji];
    if (!mode) return;
    const { message } = reaction;
    const key = `${message.id}:${user.id}:${emoji}`;
    if (this.#inFlight.has(key)) return;
    this.#inFlight.add(key);
    try {
      const jobId = await this.deps.results.jobOf(message.id);
      const channel = message.channel;
      if (!jobId || !channel.isSendable()) return;
      const caller = callerOf(user, message.channelId, message.guildId);
      const surface = new ChannelSurface(channel, { userId: user.id, replyTo: message.id });
      const view = jobView(surface, this.deps);
      await this.deps.commands.reroll(caller, { jobId, mode }, view.sink);
      await view.done();
      // Removed once handled, so the next re-roll is a fresh add (needs Manage Messages).
      await reaction.users
        .remove(user.id)
        .catch((e: unknown) => this.deps.log(`discord: could not remove a reaction: ${e}`));
    } finally {
      this.#inFlight.delete(key);
    }
  }
}
