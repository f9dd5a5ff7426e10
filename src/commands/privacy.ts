/** `privacy`: what is stored, for how long, and how to delete it. */
import type { Command } from './context.ts';

export const privacy: Command<void> = {
  name: 'privacy',
  description: 'What I keep about you, for how long, and how to delete it.',
  options: [],
  async run(ctx, _caller, _input, send) {
    const days = ctx.config.cache.ttlDays;
    const text = [
      'What I keep:',
      '• Never your photos: a photo is read in memory, turned into a face code (the numbers ' +
        'the model works from) and dropped.',
      '• The face code and where the face was in the photo (its outline points), under a hash ' +
        'of the photo, so a re-roll needs no new upload. The same for a style image you send.',
      '• A record of each result: who asked, where, the style and options, and the hash of the ' +
        'photo (no image, no link).',
      `How long: ${days} day${days === 1 ? '' : 's'}; then they are deleted automatically.`,
      'How to delete: `forget` deletes your face codes at once and removes the photo hashes ' +
        'from your records (re-rolling those then needs the photo again); `delete` on a result ' +
        "removes its record. Images posted in the chat are the chat's: delete those there.",
    ].join('\n');
    await send({ kind: 'info', text });
  },
};
