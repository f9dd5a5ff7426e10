/**
 * Command registration by bulk overwrite, from `pastiche discord register`: never on boot,
 * because Discord allows 200 command creations a day per guild.
 */
import { OAuth2Scopes, PermissionFlagsBits, REST, Routes } from 'discord.js';
import { commandDefinitions } from './definitions.ts';

/**
 * What the bot needs in a channel: see it and its history (reactions on older results), post
 * results with images and embeds (help, style list), and remove users' reactions so the same
 * re-roll can be asked again (Manage Messages).
 */
export const PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.ManageMessages;

/** The OAuth2 URL that adds the bot to a server with its commands and permissions. */
export function inviteUrl(appId: string): string {
  const params = new URLSearchParams({
    client_id: appId,
    scope: [OAuth2Scopes.Bot, OAuth2Scopes.ApplicationsCommands].join(' '),
    permissions: PERMISSIONS.toString(),
  });
  return `https://discord.com/oauth2/authorize?${params}`;
}

/**
 * Replaces the application's commands with this version's: globally, or in one guild (instant,
 * for testing). Returns how many commands Discord now has.
 *
 * @example
 * await registerCommands({ token, appId, guildId: '123' });
 */
export async function registerCommands(options: {
  token: string;
  appId: string;
  guildId?: string;
  /** A local fake Discord's REST base, in tests. */
  api?: string;
}): Promise<number> {
  const rest = new REST(options.api ? { api: options.api } : {}).setToken(options.token);
  const route = options.guildId
    ? Routes.applicationGuildCommands(options.appId, options.guildId)
    : Routes.applicationCommands(options.appId);
  const answer = (await rest.put(route, { body: commandDefinitions() })) as unknown[];
  return answer.length;
}
