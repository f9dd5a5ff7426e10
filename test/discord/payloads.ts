/**
 * Gateway payloads a test sends through the fake Discord: interactions (slash commands,
 * autocomplete, context menus, buttons) and reactions, shaped as Discord sends them.
 */
import { randomUUID } from 'node:crypto';
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ComponentType,
  GatewayDispatchEvents,
  InteractionType,
  PermissionFlagsBits,
  type APIAttachment,
  type APIMessage,
  type APIUser,
} from 'discord.js';
import { SnowflakeUtil } from 'discord.js';
import { snowflake, type FakeDiscord } from './fake-discord.ts';

/** An interaction as sent: its id and token name the REST routes of its responses. */
export interface Sent {
  id: string;
  token: string;
  /** The index in `fake.requests` when it was sent: wait for responses from there. */
  from: number;
}

type Option = {
  name: string;
  type: ApplicationCommandOptionType;
  value?: unknown;
  focused?: boolean;
  options?: Option[];
};

export const opt = {
  string: (name: string, value: string, focused = false): Option => ({
    name,
    type: ApplicationCommandOptionType.String,
    value,
    ...(focused && { focused }),
  }),
  number: (name: string, value: number): Option => ({
    name,
    type: ApplicationCommandOptionType.Number,
    value,
  }),
  boolean: (name: string, value: boolean): Option => ({
    name,
    type: ApplicationCommandOptionType.Boolean,
    value,
  }),
  integer: (name: string, value: number): Option => ({
    name,
    type: ApplicationCommandOptionType.Integer,
    value,
  }),
  attachment: (name: string, a: APIAttachment): Option => ({
    name,
    type: ApplicationCommandOptionType.Attachment,
    value: a.id,
  }),
  sub: (name: string, options: Option[] = []): Option => ({
    name,
    type: ApplicationCommandOptionType.Subcommand,
    options,
  }),
};

/** An attachment on the fake CDN (or anywhere: `url` may point off the allow-list). */
export function attachment(
  url: string,
  bytes: Uint8Array,
  filename: string,
  contentType = 'image/png',
): APIAttachment {
  return {
    id: snowflake(),
    filename,
    size: bytes.length,
    url,
    proxy_url: url,
    content_type: contentType,
  };
}

/**
 * Sends an INTERACTION_CREATE by `who` in the fake's channel. `extra` overrides fields; an
 * `undefined` one is left out (a DM has no `guild_id` or `member`). `app_permissions` are the
 * fake's for the channel unless given.
 */
export function interact(
  fake: FakeDiscord,
  who: APIUser,
  type: InteractionType,
  data: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Sent {
  const token = `token-${randomUUID()}`;
  const from = fake.requests.length;
  const payload: Record<string, unknown> = {
    id: snowflake(),
    token,
    application_id: fake.appId,
    type,
    data,
    guild_id: fake.guildId,
    channel_id: fake.channelId,
    channel: { id: fake.channelId, type: 0, guild_id: fake.guildId, name: 'portraits' },
    member: member(who),
    version: 1,
    locale: 'en-US',
    guild_locale: 'en-US',
    entitlements: [],
    authorizing_integration_owners: { '0': fake.guildId },
    context: 0,
    attachment_size_limit: 10 * 1024 * 1024,
    ...extra,
  };
  for (const [key, value] of Object.entries(payload)) if (value === undefined) delete payload[key];
  const channelId = String(payload.channel_id);
  payload.app_permissions ??= String(fake.permissionsIn(channelId));
  const id = String(payload.id);
  fake.interactionSent(token, {
    channelId,
    createdAt: SnowflakeUtil.timestampFrom(id),
    userInstallOnly: !('0' in (payload.authorizing_integration_owners as object)),
  });
  fake.dispatch(GatewayDispatchEvents.InteractionCreate, payload);
  return { id, token, from };
}

/** `extra` for an interaction by a member who may manage the server. */
export const asManager = (who: APIUser): Record<string, unknown> => ({
  member: { ...member(who), permissions: String(PermissionFlagsBits.ManageGuild) },
});

/** `extra` for an interaction in the bot's DM with `who` (`channelId` from `fake.openDm`). */
export const inDm = (who: APIUser, channelId: string): Record<string, unknown> => ({
  guild_id: undefined,
  member: undefined,
  guild_locale: undefined,
  user: who,
  channel_id: channelId,
  channel: { id: channelId, type: 1, recipients: [who] },
  context: 1,
  authorizing_integration_owners: { '0': '0' },
});

/** `extra` for an interaction of the app installed by `who` only, in a group DM. */
export const userInstalled = (who: APIUser, channelId: string): Record<string, unknown> => ({
  ...inDm(who, channelId),
  channel: { id: channelId, type: 3, recipients: [who] },
  context: 2,
  authorizing_integration_owners: { '1': who.id },
});

/** An interaction id whose snowflake time is `ms` ago: the token's 15 minutes count from it. */
export const sentAgo = (ms: number): string =>
  SnowflakeUtil.generate({ timestamp: Date.now() - ms }).toString();

const member = (who: APIUser) => ({
  user: who,
  roles: [],
  joined_at: new Date(0).toISOString(),
  deaf: false,
  mute: false,
  flags: 0,
  permissions: '2248473465835073',
});

/** A chat-input command; `attachments` are resolved as Discord does (by id). */
export function slash(
  fake: FakeDiscord,
  who: APIUser,
  name: string,
  options: Option[],
  attachments: APIAttachment[] = [],
  extra: Record<string, unknown> = {},
): Sent {
  const resolved = Object.fromEntries(attachments.map((a) => [a.id, a]));
  return interact(
    fake,
    who,
    InteractionType.ApplicationCommand,
    {
      id: snowflake(),
      name,
      type: ApplicationCommandType.ChatInput,
      options,
      ...(attachments.length > 0 && { resolved: { attachments: resolved } }),
    },
    extra,
  );
}

export function autocomplete(
  fake: FakeDiscord,
  who: APIUser,
  name: string,
  options: Option[],
): Sent {
  return interact(fake, who, InteractionType.ApplicationCommandAutocomplete, {
    id: snowflake(),
    name,
    type: ApplicationCommandType.ChatInput,
    options,
  });
}

export function messageMenu(
  fake: FakeDiscord,
  who: APIUser,
  name: string,
  target: APIMessage,
): Sent {
  return interact(fake, who, InteractionType.ApplicationCommand, {
    id: snowflake(),
    name,
    type: ApplicationCommandType.Message,
    target_id: target.id,
    resolved: { messages: { [target.id]: target } },
  });
}

export function userMenu(fake: FakeDiscord, who: APIUser, name: string, target: APIUser): Sent {
  return interact(fake, who, InteractionType.ApplicationCommand, {
    id: snowflake(),
    name,
    type: ApplicationCommandType.User,
    target_id: target.id,
    resolved: { users: { [target.id]: target } },
  });
}

/** A click on a button of `message`. */
export function click(
  fake: FakeDiscord,
  who: APIUser,
  message: APIMessage,
  customId: string,
): Sent {
  return interact(
    fake,
    who,
    InteractionType.MessageComponent,
    { custom_id: customId, component_type: ComponentType.Button },
    { message },
  );
}

/** A MESSAGE_REACTION_ADD by `who` on `message` (in a DM: no `guild_id`, no `member`). */
export function react(
  fake: FakeDiscord,
  who: APIUser,
  message: APIMessage,
  emoji: string,
  { dm = false } = {},
): number {
  const from = fake.requests.length;
  fake.dispatch(GatewayDispatchEvents.MessageReactionAdd, {
    user_id: who.id,
    channel_id: message.channel_id,
    message_id: message.id,
    ...(!dm && { guild_id: fake.guildId, member: member(who) }),
    emoji: { id: null, name: emoji },
    message_author_id: message.author.id,
    burst: false,
    burst_colors: [],
    type: 0,
  });
  return from;
}
