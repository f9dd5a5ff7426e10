/**
 * The Slack adapter: a Bolt app over Socket Mode (the default for self-hosting: no public URL)
 * or HTTP (`/slack/events`, checked against the signing secret), with every listener calling
 * the platform-neutral commands. The app manifest and setup are in docs/slack.md.
 */
import type { Logger as PinoLogger } from '../../log.ts';
import type { AddressInfo } from 'node:net';
import {
  App,
  LogLevel,
  webApi,
  type AnyMiddlewareArgs,
  type BlockAction,
  type ButtonAction,
  type Logger,
  type Middleware,
} from '@slack/bolt';
import type { Commands } from '../../commands/index.ts';
import type { Config } from '../../config.ts';
import type { AdapterSpec } from '../adapter.ts';
import {
  onCancelButton,
  onDeleteButton,
  onPickButton,
  onRerollButton,
  onWholePhotoButton,
} from './actions.ts';
import { ACTION } from './actions-ids.ts';
import { createContext, type SlackContext } from './context.ts';
import { onAppHomeOpened, onHomeDelete, onHomeForget, onHomeSheet } from './home.ts';
import { onAppMention, onMessage } from './messages.ts';
import { FIELD, MODAL_ID } from './modal.ts';
import { onExemplarOptions, onModalSubmit, onPackOptions } from './modal-listeners.ts';
import { downloadPhoto } from './photos.ts';
import { onReactionAdded } from './reactions.ts';
import { signedReceiver } from './receiver.ts';
import { openSlackStore } from './store.ts';
import { onStyleCommand } from './style-command.ts';
import { onStylizeCommand, onStylizeShortcut, SHORTCUT_ID } from './stylize-command.ts';

export interface SlackOptions {
  commands: Commands;
  config: Config;
  /** `xoxb-…` (SLACK_BOT_TOKEN). */
  botToken: string;
  /** `xapp-…` with `connections:write` (SLACK_APP_TOKEN); needed for Socket Mode. */
  appToken?: string;
  /** SLACK_SIGNING_SECRET; needed for HTTP. */
  signingSecret?: string;
  /** Default `config.slack.socketMode`. */
  socketMode?: boolean;
  /** HTTP only: where `/slack/events` listens. Default 3000; 0 picks a free port. */
  port?: number;
  /** HTTP only; default all interfaces. */
  host?: string;
  /** The Web API's base URL, for a local fake in tests: `http://127.0.0.1:8123/api/`. */
  slackApiUrl?: string;
  /** keyv URL for the message → job map and recent photos; default `config.cache.url`. */
  storeUrl?: string;
  /**
   * The least time between two edits of a status message; default 3 s. Slack allows about 50
   * edits a minute for the whole workspace (Tier 3), so a few jobs at once must share them.
   */
  statusIntervalMs?: number;
  log?: (line: string) => void;
  /** The structured log, which Bolt's own logs go into (levelled); default: `log`'s lines. */
  logger?: PinoLogger;
}

export interface SlackBot {
  app: App;
  /** HTTP only: the port actually bound. */
  port?: number;
  /** Stops receiving, waits up to `graceMs` (default 5 s) for replies in flight, closes the store. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * The only host Slack serves `url_private` from: the bot token is sent nowhere else, and a
 * download that redirects anywhere else is refused.
 */
const SLACK_FILES = 'https://files.slack.com';

/**
 * Starts the Slack app.
 *
 * @example
 * const slack = await startSlack({ commands, config, botToken: config.secrets.slackBotToken!,
 *   appToken: config.secrets.slackAppToken });
 * process.on('SIGTERM', () => void slack.stop());
 */
export async function startSlack(options: SlackOptions): Promise<SlackBot> {
  const { config, botToken } = options;
  const log = options.log ?? ((line: string) => console.warn(line));
  const logger = options.logger
    ? boltPino(options.logger.child({ component: 'slack' }))
    : boltLogger(log);
  const mode = receiverMode(options, logger);
  const clientOptions = options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {};
  const identity = await whoAmI(botToken, clientOptions);
  const store = await openSlackStore({
    url: options.storeUrl ?? config.cache.url,
    keyPrefix: config.cache.keyPrefix,
    resultTtlMs: config.cache.ttlDays * 86_400_000,
    onError: (error) => log(`slack: store: ${String(error)}`),
  });
  // `forget` deletes the recently shared photos too, for as long as this store is open.
  const unforget = options.commands.onForget('slack', (user) => store.forgetUser(user));
  try {
    const app = new App({
      token: botToken,
      // Known already: Bolt need not call auth.test again (its retries outlive a stopped app).
      ...identity,
      ...mode,
      clientOptions,
      logger,
    });
    // Its own queue: a 429 on a status edit fails that edit and pauses nothing else.
    const statusClient = new webApi.WebClient(botToken, {
      ...clientOptions,
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 1 },
      logger,
    });
    // The token goes to Slack's file host only (and to the fake Slack a test points the API at).
    const origins = [
      SLACK_FILES,
      ...(options.slackApiUrl ? [new URL(options.slackApiUrl).origin] : []),
    ];
    const { maxBytes } = config.photo;
    const ctx = createContext({
      commands: options.commands,
      config,
      client: app.client,
      statusClient,
      statusIntervalMs: options.statusIntervalMs ?? 3000,
      store,
      log,
      download: (photo) => downloadPhoto(photo, { botToken, maxBytes, origins }),
    });
    register(app, ctx);
    app.error(async (error) => log(`slack: ${error.stack ?? String(error)}`));
    const port = await listen(app, 'socketMode' in mode, options);
    let stopped = false;
    return {
      app,
      ...(port !== undefined && { port }),
      async stop(graceMs = 5000) {
        if (stopped) return;
        stopped = true;
        await app.stop();
        await ctx.drain(graceMs);
        unforget();
        await store.close();
      },
    };
  } catch (error) {
    unforget();
    await store.close();
    throw error;
  }
}

/** Socket Mode with the app token, or HTTP with the signing secret; which one is the config's. */
function receiverMode(
  options: SlackOptions,
  logger: Logger,
): { socketMode: true; appToken: string } | { receiver: ReturnType<typeof signedReceiver> } {
  const { appToken, signingSecret } = options;
  if (options.socketMode ?? options.config.slack.socketMode) {
    if (appToken) return { socketMode: true, appToken };
    throw new Error(
      'Slack Socket Mode needs SLACK_APP_TOKEN (xapp-…, scope connections:write); ' +
        'for HTTP instead set PASTICHE_SLACK_SOCKET_MODE=false and SLACK_SIGNING_SECRET',
    );
  }
  if (signingSecret) return { receiver: signedReceiver(signingSecret, logger) };
  throw new Error(
    'Slack over HTTP needs SLACK_SIGNING_SECRET (Basic Information → App Credentials)',
  );
}

/** Connects (Socket Mode) or listens; returns the HTTP port bound. */
async function listen(
  app: App,
  socketMode: boolean,
  options: Pick<SlackOptions, 'port' | 'host'>,
): Promise<number | undefined> {
  if (socketMode) {
    await app.start();
    return undefined;
  }
  const server = await app.start({ port: options.port ?? 3000, host: options.host });
  return (server.address() as AddressInfo).port;
}

/** Bolt's warnings and errors (a refused signature, a failed call) into the adapter's log. */
function boltLogger(log: (line: string) => void): Logger {
  const write = (...parts: unknown[]) => log(`slack: ${parts.map(String).join(' ')}`);
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: write,
    error: write,
    setLevel: () => undefined,
    getLevel: () => LogLevel.WARN,
    setName: () => undefined,
  };
}

/** Bolt's logs at their own levels into the structured log (Bolt's Logger interface). */
function boltPino(pino: PinoLogger): Logger {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...parts: unknown[]) =>
      pino[level](
        parts.map((p) => (p instanceof Error ? (p.stack ?? p.message) : String(p))).join(' '),
      );
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    // The configured `logging.level` rules; Bolt asks only to filter before formatting.
    setLevel: () => undefined,
    getLevel: () => (pino.isLevelEnabled('debug') ? LogLevel.DEBUG : LogLevel.INFO),
    setName: () => undefined,
  };
}

/** The bot's ids, which also proves the token at start rather than at the first event. */
async function whoAmI(
  botToken: string,
  clientOptions: webApi.WebClientOptions,
): Promise<{ botId: string; botUserId: string }> {
  const client = new webApi.WebClient(botToken, { ...clientOptions, retryConfig: { retries: 2 } });
  let answer: webApi.AuthTestResponse;
  try {
    answer = await client.auth.test();
  } catch (error) {
    const code = (error as { data?: { error?: string } }).data?.error;
    throw new Error(
      code
        ? `Slack refused SLACK_BOT_TOKEN (${code}): use the app's Bot User OAuth Token (xoxb-…)`
        : `Slack is unreachable: ${String(error)}`,
      { cause: error },
    );
  }
  if (!answer.bot_id || !answer.user_id) {
    throw new Error('SLACK_BOT_TOKEN is not a bot token: use the Bot User OAuth Token (xoxb-…)');
  }
  return { botId: answer.bot_id, botUserId: answer.user_id };
}

/**
 * Slack retries an event it thinks was not acknowledged in time (`x-slack-retry-num`, Bolt's
 * `context.retryNum`), though the first delivery may well have run: each event id runs once.
 */
function oncePerEvent(ctx: SlackContext): Middleware<AnyMiddlewareArgs> {
  return async ({ body, context, next }) => {
    const eventId = (body as { event_id?: unknown }).event_id;
    if (typeof eventId === 'string' && !(await ctx.store.claimEvent(eventId))) {
      ctx.log(
        `slack: skipped retry ${context.retryNum ?? '?'} of event ${eventId} ` +
          `(${context.retryReason ?? 'no reason given'}): already handled`,
      );
      return;
    }
    await next();
  };
}

/** Every listener, under the thing it answers. */
function register(app: App, ctx: SlackContext): void {
  app.use(oncePerEvent(ctx));
  app.command('/stylize', onStylizeCommand(ctx));
  app.command('/style', onStyleCommand(ctx));
  app.shortcut({ type: 'message_action', callback_id: SHORTCUT_ID }, onStylizeShortcut(ctx));
  app.view({ type: 'view_submission', callback_id: MODAL_ID }, onModalSubmit(ctx));
  app.options({ type: 'block_suggestion', action_id: FIELD.pack }, onPackOptions(ctx));
  app.options({ type: 'block_suggestion', action_id: FIELD.exemplar }, onExemplarOptions(ctx));
  app.event('app_mention', onAppMention(ctx));
  app.event('message', onMessage(ctx));
  app.event('reaction_added', onReactionAdded(ctx));
  app.event('app_home_opened', onAppHomeOpened(ctx));
  const button = (actionId: string | RegExp) =>
    ({ type: 'block_actions', action_id: actionId }) as const;
  app.action<BlockAction<ButtonAction>>(button(/^pastiche_reroll_/), onRerollButton(ctx));
  app.action<BlockAction<ButtonAction>>(button(/^pastiche_pick_\d+$/), onPickButton(ctx));
  app.action<BlockAction<ButtonAction>>(button(ACTION.wholePhoto), onWholePhotoButton(ctx));
  app.action<BlockAction<ButtonAction>>(button(ACTION.cancel), onCancelButton(ctx));
  app.action<BlockAction<ButtonAction>>(button(ACTION.delete), onDeleteButton(ctx));
  app.action<BlockAction<ButtonAction>>(button(ACTION.homeSheet), onHomeSheet(ctx));
  app.action<BlockAction<ButtonAction>>(button(ACTION.homeForget), onHomeForget(ctx));
  app.action<BlockAction<ButtonAction>>(button(ACTION.homeDelete), onHomeDelete(ctx));
}

/** Slack as an {@link AdapterSpec}: on when `SLACK_BOT_TOKEN` is set. */
export const slackAdapter: AdapterSpec = {
  name: 'slack',
  enabled: (config) => config.secrets.slackBotToken !== undefined,
  async start({ config, commands, log, logger }) {
    const { slackAppToken, slackSigningSecret } = config.secrets;
    const slack = await startSlack({
      logger,
      commands,
      config,
      botToken: config.secrets.slackBotToken!,
      ...(slackAppToken !== undefined && { appToken: slackAppToken }),
      ...(slackSigningSecret !== undefined && { signingSecret: slackSigningSecret }),
      log,
    });
    log(
      `slack: connected (${config.slack.socketMode ? 'Socket Mode' : `HTTP on port ${slack.port}`})`,
    );
    let closed = false;
    return {
      name: 'slack',
      ready: () => !closed,
      // Slack keeps delivering events while the command layer drains (new ones hear "busy");
      // closing waits for replies in flight, then disconnects.
      stop: () => Promise.resolve(),
      close: () => ((closed = true), slack.stop()),
    };
  },
};
