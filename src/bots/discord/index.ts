/**
 * The Discord adapter: a discord.js client whose interactions and reactions become commands,
 * and whose commands' replies become messages. Holds no state a restart would lose: buttons
 * carry their job id, and result messages map to jobs in keyv.
 */
import type { Logger } from '../../log.ts';
import { once } from 'node:events';
import {
  Client,
  Events,
  GatewayDispatchEvents,
  GatewayIntentBits,
  MessageFlags,
  Partials,
  Status,
  type GatewayDispatchPayload,
  type Interaction,
} from 'discord.js';
import type { Commands } from '../../commands/index.ts';
import type { Config } from '../../config.ts';
import type { AdapterSpec } from '../adapter.ts';
import type { Deps } from './context.ts';
import { onInteraction } from './interactions.ts';
import { ReactionHandler } from './reactions.ts';
import { inviteUrl } from './register.ts';
import { openResultIndex } from './results.ts';

export interface StartDiscordOptions {
  commands: Commands;
  config: Config;
  /** `config.secrets.discordToken`. */
  token: string;
  /** `config.secrets.discordAppId`: only to log the invite URL (READY names the application). */
  appId?: string;
  /** discord.js REST options: `api` (and `cdn`) point the client at a local fake in tests. */
  rest?: { api?: string; cdn?: string };
  /** keyv URL of the message → job index; default `config.cache.url`, beside the job records. */
  storeUrl?: string;
  /** Accept http:// attachment URLs. Only for a local fake Discord. */
  insecureDownloads?: boolean;
  /** How long `close` waits for handlers in progress; default 10 s. */
  drainMs?: number;
  log?: (line: string) => void;
  /** The structured log, which discord.js's warn/debug events go into; default: `log`'s lines. */
  logger?: Logger;
}

export interface DiscordBot {
  client: Client<true>;
  /** Stops taking commands (new ones hear "restarting"); handlers in progress go on. */
  stop(): Promise<void>;
  /** Stops, lets handlers in progress deliver their replies (up to `drainMs`), logs out. */
  close(): Promise<void>;
  /**
   * Resolves once no handler of an interaction or reaction is in progress: everything the
   * events received so far will do is done (tests use it to show that nothing else followed).
   */
  settled(): Promise<void>;
}

/**
 * Logs in and resolves once the client is ready. Slash commands are not registered here
 * (Discord limits how often that may happen): run `pastiche discord register` once.
 *
 * @example
 * const bot = await startDiscord({ commands, config, token: config.secrets.discordToken! });
 * process.once('SIGTERM', async () => { await bot.stop(); await commands.close(); await bot.close(); });
 */
export async function startDiscord(options: StartDiscordOptions): Promise<DiscordBot> {
  const { config } = options;
  const log = options.log ?? ((line: string) => console.error(line));
  const results = await openResultIndex({
    url: options.storeUrl ?? config.cache.url,
    keyPrefix: config.cache.keyPrefix,
    ttlMs: config.cache.ttlDays * 86_400_000,
    onError: (e) => log(`discord: result index: ${String(e)}`),
  });
  const deps: Deps = {
    commands: options.commands,
    config,
    results,
    download: {
      hosts: config.discord.cdnHosts,
      maxBytes: config.photo.maxBytes,
      allowHttp: options.insecureDownloads ?? false,
    },
    log,
  };
  const client = new Client({
    // Reactions need their intents; interactions (commands, buttons) need none.
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessageReactions,
      GatewayIntentBits.DirectMessageReactions,
    ],
    // Reactions on messages sent before this process started arrive for uncached messages.
    partials: [Partials.Message, Partials.Channel, Partials.Reaction, Partials.User],
    allowedMentions: { parse: [] },
    ...(options.rest && { rest: options.rest }),
  });

  const running = new Set<Promise<void>>();
  const track = (what: string, task: Promise<void>): void => {
    const settled = task
      .catch((e: unknown) => log(`discord: ${what} failed: ${(e as Error).stack ?? String(e)}`))
      .finally(() => running.delete(settled));
    running.add(settled);
  };
  const reactions = new ReactionHandler(deps);
  let stopped = false;
  client.on(Events.InteractionCreate, (i) =>
    track('interaction', stopped ? restarting(i) : onInteraction(i, deps)),
  );
  client.on(Events.MessageReactionAdd, (r, u) => {
    if (!stopped) track('reaction', reactions.handle(r, u));
  });
  // Emitted before discord.js handles the packet: a DM reaction in a channel it has not cached
  // (after a restart) is one it would drop.
  client.on(Events.Raw, (packet: GatewayDispatchPayload) => {
    if (stopped || packet.t !== GatewayDispatchEvents.MessageReactionAdd) return;
    const d = packet.d;
    if (d.guild_id !== undefined || client.channels.cache.has(d.channel_id)) return;
    track('reaction', reactions.handleUncachedDm(client, d));
  });
  client.on(Events.Error, (e) => log(`discord: ${e.message}`));
  if (options.logger) {
    const djs = options.logger.child({ component: 'discord.js' });
    client.on(Events.Warn, (message) => djs.warn(message));
    // Heartbeats and gateway chatter: only when `logging.level` is debug (checked first, as the
    // events are frequent).
    if (djs.isLevelEnabled('debug')) client.on(Events.Debug, (message) => djs.debug(message));
  }

  try {
    const ready = once(client, Events.ClientReady);
    await client.login(options.token);
    await ready;
  } catch (error) {
    await client.destroy();
    await results.close();
    throw error;
  }
  const appId = options.appId ?? client.application?.id;
  log(`discord: logged in as ${client.user?.tag}${appId ? `; invite: ${inviteUrl(appId)}` : ''}`);

  let closed: Promise<void> | undefined;
  return {
    client: client as Client<true>,
    async stop() {
      stopped = true;
    },
    close() {
      stopped = true;
      return (closed ??= drainAndLogOut());
    },
    async settled() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };

  async function drainAndLogOut(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise((r) => (timer = setTimeout(r, options.drainMs ?? 10_000)));
    await Promise.race([Promise.allSettled([...running]), timeout]);
    clearTimeout(timer);
    await client.destroy();
    await results.close();
  }
}

/** During shutdown: an answer within Discord's 3 s rather than "the application did not respond". */
async function restarting(interaction: Interaction): Promise<void> {
  if (!interaction.isRepliable()) return;
  const content = "I'm restarting. Try again in a minute.";
  await interaction.reply({ content, flags: MessageFlags.Ephemeral });
}

/** Discord as an {@link AdapterSpec}: on when `DISCORD_TOKEN` is set. */
export const discordAdapter: AdapterSpec = {
  name: 'discord',
  enabled: (config) => config.secrets.discordToken !== undefined,
  async start({ config, commands, log, logger }) {
    const bot = await startDiscord({
      logger,
      commands,
      config,
      token: config.secrets.discordToken!,
      ...(config.secrets.discordAppId !== undefined && { appId: config.secrets.discordAppId }),
      log,
    });
    return {
      name: 'discord',
      // A gateway connection being resumed is not ready; discord.js reconnects it.
      ready: () => bot.client.ws.status === Status.Ready,
      stop: () => bot.stop(),
      close: () => bot.close(),
    };
  },
};
