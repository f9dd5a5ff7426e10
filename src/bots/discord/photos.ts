/**
 * Commands that take photos or run jobs: `/stylize`, `/style random`, the two context menus and
 * the re-roll button. Each answers a refusal privately before deferring (Discord fixes the
 * visibility of every later reply then): missing permissions, a source it will not fetch, and
 * the command layer's cheap checks. Then it defers publicly, downloads, and runs.
 */
import {
  GuildMember,
  MessageFlags,
  type Attachment,
  type Message,
  type RepliableInteraction,
  type User,
} from 'discord.js';
import type { Precheck, Reply, ReplySink } from '../../commands/index.ts';
import { errorOf, interactionCaller, jobView, type Deps } from './context.ts';
import { checkSource, downloadPhoto, IntakeError, type PhotoSource } from './download.ts';
import type { MessageRef } from './ids.ts';
import { permissionRefusal } from './permissions.ts';
import { canPostInChannel, InteractionSurface, TOKEN_LIFETIME_MS } from './surface.ts';

/**
 * Where the bot cannot post in the channel (a user install), a job must finish while the token
 * lives: it is stopped this long before the token's 15 minutes are up, with time to say so.
 */
export const STOP_BEFORE_EXPIRY_MS = 2 * 60_000;

const STOPPED_TEXT =
  "✖️ That took too long: Discord lets me answer a command here for 15 minutes only. It didn't count towards your hourly limit; try again when the queue is shorter.";

type Photos<K extends string> = Partial<Record<K, Uint8Array>>;

/** How a job's reply is set up: whose avatar it shows, where its photo came from. */
export interface JobOptions {
  subject?: string;
  photoSource?: MessageRef;
  /** Words for a refusal, where Discord can say more than the command layer (what to run). */
  explain?: (refusal: Extract<Reply, { kind: 'error' }>) => string;
}

export const sourceOf = (a: Attachment | null): PhotoSource | undefined =>
  a ? { url: a.url, size: a.size } : undefined;

/** A private answer (a refusal, mostly), as the interaction's first and only response. */
export async function replyPrivately(
  interaction: RepliableInteraction,
  text: string,
): Promise<void> {
  await interaction.reply({ content: text, flags: MessageFlags.Ephemeral });
}

/**
 * The refusal of a job command before it is acknowledged, or `undefined` if it will run: the
 * bot's permissions, then the command layer's cheap checks (limits, style, photo, author).
 */
export async function refusalOf(
  interaction: RepliableInteraction,
  deps: Deps,
  check: Precheck,
  explain: JobOptions['explain'] = (refusal) => refusal.text,
): Promise<string | undefined> {
  const denied = permissionRefusal(interaction, canPostInChannel(interaction));
  if (denied) return denied;
  const refusal = await deps.commands.check(interactionCaller(interaction), check);
  return refusal && explain(refusal);
}

/**
 * Answers refusals privately, else defers publicly, downloads every source, and runs the
 * command with the bytes; later failures take the place of the status message.
 */
export async function withPhotos<K extends string>(
  interaction: RepliableInteraction,
  deps: Deps,
  sources: Partial<Record<K, PhotoSource>>,
  check: Precheck,
  run: (photos: Photos<K>, sink: ReplySink) => Promise<void>,
  o: JobOptions = {},
): Promise<void> {
  const entries = Object.entries(sources) as [K, PhotoSource | undefined][];
  for (const [, source] of entries) {
    const refusal = source && checkSource(source, deps.download);
    if (refusal) return replyPrivately(interaction, errorOf(refusal, deps.log).text);
  }
  const download = async (sink: ReplySink): Promise<void> => {
    const photos: Photos<K> = {};
    for (const [key, source] of entries) {
      if (source) photos[key] = await downloadPhoto(source, deps.download);
    }
    await run(photos, sink);
  };
  await publicJob(interaction, deps, check, download, o);
}

/**
 * A job whose reply everyone in the channel sees: refused privately, or deferred publicly and
 * run. Where the bot cannot post in the channel, the job is stopped before the token expires.
 */
export async function publicJob(
  interaction: RepliableInteraction,
  deps: Deps,
  check: Precheck,
  run: (sink: ReplySink) => Promise<void>,
  { explain, ...where }: JobOptions = {},
): Promise<void> {
  const refusal = await refusalOf(interaction, deps, check, explain);
  if (refusal) return replyPrivately(interaction, refusal);
  await interaction.deferReply();
  const view = jobView(new InteractionSurface(interaction, deps.log), deps, {
    caller: interactionCaller(interaction),
    channel: () => interaction.channel,
    ...where,
  });
  let timer: NodeJS.Timeout | undefined;
  if (!canPostInChannel(interaction)) {
    const stopAt = interaction.createdTimestamp + TOKEN_LIFETIME_MS - STOP_BEFORE_EXPIRY_MS;
    timer = setTimeout(() => view.stop(STOPPED_TEXT), Math.max(0, stopAt - Date.now()));
  }
  try {
    await run(view.sink);
  } catch (error) {
    await view.sink(errorOf(error, deps.log));
  } finally {
    clearTimeout(timer);
  }
  await view.done();
}

const IMAGE_NAME = /\.(jpe?g|png|webp|gif|avif|heic|heif)$/i;

/** The first image of a message: an attachment, else an embed's image (Discord's media proxy). */
export function photoInMessage(message: Message): PhotoSource | undefined {
  const attachment = message.attachments.find(
    (a) => a.contentType?.startsWith('image/') || IMAGE_NAME.test(a.name),
  );
  if (attachment) return sourceOf(attachment);
  for (const embed of message.embeds) {
    const image = embed.image ?? embed.thumbnail;
    const url = image?.proxyURL ?? image?.url;
    if (url) return { url };
  }
  return undefined;
}

/** "Stylize photo" on a message: its image with the default style. */
export async function stylizeMessagePhoto(
  interaction: RepliableInteraction,
  message: Message,
  deps: Deps,
): Promise<void> {
  const photo = photoInMessage(message);
  if (!photo)
    return replyPrivately(interaction, new IntakeError('no-photo-in-message').userMessage);
  const caller = interactionCaller(interaction);
  // The message stays in the channel: the whole-photo button can fetch its photo again.
  const photoSource = { channelId: message.channelId, messageId: message.id };
  await withPhotos(
    interaction,
    deps,
    { photo },
    { command: 'stylize', photo: true },
    (p, sink) => deps.commands.stylize(caller, { photo: p.photo }, sink),
    { photoSource },
  );
}

const AVATARS_OFF =
  "Stylizing other members' avatars is off here. Someone who manages the server can turn it on with `/settings avatars:True`; your own avatar always works.";

/**
 * "Stylize avatar" on a user: the server avatar if they have one, else their own. Someone
 * else's only where the server turned that on (outside a server, never); they may then delete
 * the result.
 */
export async function stylizeAvatar(
  interaction: RepliableInteraction,
  target: { user: User; member: unknown },
  deps: Deps,
): Promise<void> {
  const someoneElse = target.user.id !== interaction.user.id;
  const { guildId } = interaction;
  if (someoneElse && !(guildId && (await deps.results.avatarsAllowed(guildId)))) {
    return replyPrivately(interaction, AVATARS_OFF);
  }
  const options = { extension: 'png', size: 512, forceStatic: true } as const;
  const url =
    target.member instanceof GuildMember
      ? target.member.displayAvatarURL(options)
      : target.user.displayAvatarURL(options);
  const caller = interactionCaller(interaction);
  const check = { command: 'stylize', photo: true } as const;
  await withPhotos(
    interaction,
    deps,
    { photo: { url } },
    check,
    (p, sink) => deps.commands.stylize(caller, { photo: p.photo }, sink),
    someoneElse ? { subject: target.user.id } : {},
  );
}
