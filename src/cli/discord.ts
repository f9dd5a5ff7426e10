/** `pastiche discord register [--guild ID]`: uploads the bot's commands (bulk overwrite). */
import type { Command } from 'commander';
import { DiscordAPIError } from 'discord.js';
import { inviteUrl, registerCommands } from '../bots/discord/register.ts';
import { registerShardCommands } from './shards.ts';
import { loadConfig } from '../config.ts';

export function registerDiscord(program: Command): void {
  // Typed, so TypeScript sees that `error` never returns.
  const discord: Command = program
    .command('discord')
    .description('the Discord bot: register its commands');
  discord
    .command('register')
    .description(
      'register the slash commands and context menus (run once per release, not on every start)',
    )
    .option('--guild <id>', 'register in one server only: instant, for testing')
    .action(async (o: { guild?: string }) => {
      const { discordToken: token, discordAppId: appId } = loadConfig().secrets;
      if (!token || !appId) {
        discord.error('error: set DISCORD_TOKEN and DISCORD_APP_ID (in the environment or .env)');
      }
      try {
        const count = await registerCommands({ token, appId, guildId: o.guild });
        const where = o.guild ? `in server ${o.guild}` : 'globally';
        console.log(`registered ${count} commands ${where}`);
        console.log(`invite the bot with: ${inviteUrl(appId)}`);
      } catch (error) {
        if (!(error instanceof DiscordAPIError)) throw error;
        discord.error(`error: Discord refused the commands: ${error.message} (${error.status})`);
      }
    });
  registerShardCommands(discord);
}
