/**
 * What the bot may do where a command came from. Discord answers a request the bot lacks the
 * permission for with 403 / 50013, and every 401, 403 and 429 counts towards its invalid-request
 * ban (10,000 in 10 minutes): so the bot checks first, and names what is missing.
 */
import {
  DiscordAPIError,
  PermissionFlagsBits,
  PermissionsBitField,
  RESTJSONErrorCodes,
  type Channel,
  type PermissionResolvable,
  type RepliableInteraction,
} from 'discord.js';

/** The words Discord's client uses for each permission the bot needs. */
const NAMES: readonly [bigint, string][] = [
  [PermissionFlagsBits.ViewChannel, 'View Channel'],
  [PermissionFlagsBits.SendMessages, 'Send Messages'],
  [PermissionFlagsBits.SendMessagesInThreads, 'Send Messages in Threads'],
  [PermissionFlagsBits.AttachFiles, 'Attach Files'],
  [PermissionFlagsBits.EmbedLinks, 'Embed Links'],
];

/**
 * What a command needs where it was used: its replies carry files (results, contact sheets) and
 * embeds (help, the style list); once the interaction token has expired they are posted in the
 * channel with the bot token, which needs the channel's own permissions too.
 */
export function neededPermissions(o: { channelFallback: boolean; thread: boolean }): bigint {
  let needed = PermissionFlagsBits.AttachFiles | PermissionFlagsBits.EmbedLinks;
  if (o.channelFallback) {
    needed |= PermissionFlagsBits.ViewChannel;
    needed |= o.thread
      ? PermissionFlagsBits.SendMessagesInThreads
      : PermissionFlagsBits.SendMessages;
  }
  return needed;
}

/** The names of the permissions in `needed` that `have` lacks. */
export function missingNames(have: Readonly<PermissionsBitField>, needed: bigint): string[] {
  // `has` counts Administrator as every permission, as Discord does.
  return NAMES.filter(([bit]) => (needed & bit) === bit && !have.has(bit)).map(([, name]) => name);
}

/** "I'm missing the Attach Files permission here. …", or a general sentence if unknown. */
export function missingText(names: readonly string[]): string {
  const what =
    names.length === 0
      ? 'a permission'
      : `the ${names.map((n) => `**${n}**`).join(' and ')} permission${names.length > 1 ? 's' : ''}`;
  return `I can't post here: I'm missing ${what} in this channel. Ask someone who manages the server to give it to me.`;
}

/** The bot's permissions in a guild channel, from the cache; `null` elsewhere (a DM). */
export function botPermissionsIn(channel: Channel | null): Readonly<PermissionsBitField> | null {
  if (!channel || channel.isDMBased()) return null;
  return channel.permissionsFor(channel.client.user);
}

/** Whether the bot has every one of `bits` in the channel; `false` in a DM or when unknown. */
export function botMay(channel: Channel | null, bits: PermissionResolvable): boolean {
  return botPermissionsIn(channel)?.has(bits) ?? false;
}

/**
 * The refusal for an interaction used where the bot lacks what its replies need, or `undefined`.
 * `appPermissions` is what Discord computed for this interaction, in guilds and DMs alike.
 */
export function permissionRefusal(
  interaction: RepliableInteraction,
  channelFallback: boolean,
): string | undefined {
  const needed = neededPermissions({
    channelFallback,
    thread: interaction.channel?.isThread() ?? false,
  });
  const names = missingNames(interaction.appPermissions, needed);
  return names.length > 0 ? missingText(names) : undefined;
}

/** A request not sent because the bot knows it lacks a permission for it. */
export class MissingPermissionError extends Error {
  override readonly name = 'MissingPermissionError';
  constructor(readonly missing: readonly string[]) {
    super(`missing ${missing.join(', ')}`);
  }
}

/**
 * Throws {@link MissingPermissionError} if the cache says the bot may not post `message` in the
 * guild channel (a DM, or a channel it does not know, is left to Discord): one 403 fewer.
 */
export function assertMayPost(
  channel: Channel | null,
  message: { files: readonly unknown[]; embeds: readonly unknown[] },
  o: { asBot: boolean },
): void {
  const have = botPermissionsIn(channel);
  if (!have || !channel) return;
  let needed = 0n;
  if (o.asBot) {
    needed |= neededPermissions({ channelFallback: true, thread: channel.isThread() });
    needed &= ~(PermissionFlagsBits.AttachFiles | PermissionFlagsBits.EmbedLinks);
  }
  if (message.files.length > 0) needed |= PermissionFlagsBits.AttachFiles;
  if (message.embeds.length > 0) needed |= PermissionFlagsBits.EmbedLinks;
  const missing = missingNames(have, needed);
  if (missing.length > 0) throw new MissingPermissionError(missing);
}

/** Discord refused a request for want of a permission (or of access), or we knew it would. */
export function isPermissionError(error: unknown): boolean {
  return (
    error instanceof MissingPermissionError ||
    (error instanceof DiscordAPIError &&
      (error.code === RESTJSONErrorCodes.MissingPermissions ||
        error.code === RESTJSONErrorCodes.MissingAccess))
  );
}
