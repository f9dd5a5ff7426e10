/**
 * The whole-photo button. The engine keeps a photo only for `privacy.keepPhotosMinutes`; where
 * the bot can fetch it again (a "Stylize photo" result, whose source message is still in the
 * channel) it sends the photo itself, so the button works later too. Otherwise the kept photo
 * serves, and once it is gone the answer says how to send the photo again.
 */
import {
  DiscordAPIError,
  PermissionFlagsBits,
  RESTJSONErrorCodes,
  type ButtonInteraction,
} from 'discord.js';
import type { Reply } from '../../commands/index.ts';
import { resultRef, UserError } from '../../engine/index.ts';
import { interactionCaller, type Deps } from './context.ts';
import { checkSource, downloadPhoto } from './download.ts';
import type { MessageRef } from './ids.ts';
import { botMay } from './permissions.ts';
import { photoInMessage, publicJob } from './photos.ts';
import { canPostInChannel } from './surface.ts';

/** Discord's way to send the photo again, after the command layer's sentence. */
export const attachAgain = (jobId: string): string =>
  `Run \`/stylize\` with the photo attached, \`style:${resultRef(jobId)}\` and \`whole_photo:True\`.`;

export async function wholePhotoButton(
  i: ButtonInteraction,
  deps: Deps,
  jobId: string,
  source: MessageRef | undefined,
): Promise<void> {
  const from = source && fetchable(i, source) ? source : undefined;
  const explain = (refusal: Extract<Reply, { kind: 'error' }>): string =>
    refusal.code === 'photo-needed' ? `${refusal.text} ${attachAgain(jobId)}` : refusal.text;
  const caller = interactionCaller(i);
  await publicJob(
    i,
    deps,
    { command: 'wholePhoto', jobId },
    async (sink) => {
      let photo: Uint8Array | undefined;
      try {
        photo = from && (await photoAgain(i, from, deps));
      } catch (error) {
        // The message went: the kept photo may still serve.
        if (!(error instanceof UserError && error.code === 'photo-needed')) throw error;
      }
      await deps.commands.wholePhoto(caller, { jobId, ...(photo && { photo }) }, async (reply) =>
        sink(reply.kind === 'error' ? { ...reply, text: explain(reply) } : reply),
      );
    },
    { explain, ...(from && { photoSource: from }) },
  );
}

/**
 * Whether the bot may read the source message: in this channel, where the bot itself is (not a
 * user install), with Read Message History in a server. Anything else would be a refused request.
 */
function fetchable(i: ButtonInteraction, source: MessageRef): boolean {
  const { channel } = i;
  if (!channel || source.channelId !== channel.id || !canPostInChannel(i)) return false;
  const read = PermissionFlagsBits.ViewChannel | PermissionFlagsBits.ReadMessageHistory;
  return channel.isDMBased() || botMay(channel, read);
}

/**
 * The photo of the source message, fetched anew, never from the cache: its CDN link is signed
 * and expires, and the message may have been deleted or edited since.
 */
async function photoAgain(
  i: ButtonInteraction,
  source: MessageRef,
  deps: Deps,
): Promise<Uint8Array> {
  let message;
  try {
    message = await i.channel!.messages.fetch({ message: source.messageId, force: true });
  } catch (error) {
    // Deleted since: nothing to paste into.
    if (error instanceof DiscordAPIError && error.code === RESTJSONErrorCodes.UnknownMessage) {
      throw new UserError('photo-needed', 'source message deleted');
    }
    throw error;
  }
  const photo = photoInMessage(message);
  if (!photo || checkSource(photo, deps.download)) {
    throw new UserError('photo-needed', 'source message has no photo');
  }
  return downloadPhoto(photo, deps.download);
}
