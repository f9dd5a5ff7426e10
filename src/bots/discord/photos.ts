/**
 * Commands that take photos: `/stylize`, `/style random` and the two context menus. Each checks
 * its sources without I/O (a refusal is an ephemeral reply), defers, downloads, then runs.
 */
import {
  GuildMember,
  MessageFlags,
  type Attachment,
  type Message,
  type RepliableInteraction,
  type User,
} from 'discord.js';
import type { ReplySink } from '../../commands/index.ts';
import { errorOf, interactionCaller, jobView, type Deps } from './context.ts';
import { checkSource, downloadPhoto, IntakeError, type PhotoSource } from './download.ts';
import { InteractionSurface } from './surface.ts';

type Photos<K extends string> = Partial<Record<K, Uint8Array>>;

export const sourceOf = (a: Attachment | null): PhotoSource | undefined =>
  a ? { url: a.url, size: a.size } : undefined;

/**
 * Defers, downloads every source, and runs the command with the bytes. The reply is public;
 * refusals and failures are ephemeral.
 */
export async function withPhotos<K extends string>(
  interaction: RepliableInteraction,
  deps: Deps,
  sources: Partial<Record<K, PhotoSource>>,
  run: (photos: Photos<K>, sink: ReplySink) => Promise<void>,
): Promise<void> {
  const entries = Object.entries(sources) as [K, PhotoSource | undefined][];
  for (const [, source] of entries) {
    const refusal = source && checkSource(source, deps.download);
    if (refusal) {
      const { text } = errorOf(refusal, deps.log);
      await interaction.reply({ content: text, flags: MessageFlags.Ephemeral });
      return;
    }
  }
  await interaction.deferReply();
  const view = jobView(new InteractionSurface(interaction, deps.log), deps);
  try {
    const photos: Photos<K> = {};
    for (const [key, source] of entries) {
      if (source) photos[key] = await downloadPhoto(source, deps.download);
    }
    await run(photos, view.sink);
  } catch (error) {
    await view.sink(errorOf(error, deps.log));
  }
  await view.done();
}

const IMAGE_NAME = /\.(jpe?g|png|webp|gif|avif|heic|heif)$/i;

/** The first image of a message: an attachment, else an embed's image (Discord's media proxy). */
function photoInMessage(message: Message): PhotoSource | undefined {
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
  if (!photo) {
    const text = new IntakeError('no-photo-in-message').userMessage;
    await interaction.reply({ content: text, flags: MessageFlags.Ephemeral });
    return;
  }
  const caller = interactionCaller(interaction);
  await withPhotos(interaction, deps, { photo }, (p, sink) =>
    deps.commands.stylize(caller, { photo: p.photo }, sink),
  );
}

/** "Stylize avatar" on a user: the server avatar if they have one, else their own. */
export async function stylizeAvatar(
  interaction: RepliableInteraction,
  target: { user: User; member: unknown },
  deps: Deps,
): Promise<void> {
  const options = { extension: 'png', size: 512, forceStatic: true } as const;
  const url =
    target.member instanceof GuildMember
      ? target.member.displayAvatarURL(options)
      : target.user.displayAvatarURL(options);
  const caller = interactionCaller(interaction);
  await withPhotos(interaction, deps, { photo: { url } }, (p, sink) =>
    deps.commands.stylize(caller, { photo: p.photo }, sink),
  );
}
