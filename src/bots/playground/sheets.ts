/** The contact sheet of one pack, for the exemplar picker: the image of its `style list`. */
import type { Commands } from '../../commands/index.ts';
import type { Caller, Reply } from '../../commands/types.ts';
import type { EncodedImage } from '../../engine/index.ts';

/** The command layer caches sheets, so asking again is cheap. */
export async function contactSheet(
  commands: Commands,
  pack: string,
  caller: Caller,
): Promise<EncodedImage | undefined> {
  const replies: Reply[] = [];
  await commands.styleList(caller, { pack }, (reply) => void replies.push(reply));
  for (const reply of replies) if (reply.kind === 'info' && reply.image) return reply.image;
  return undefined;
}
