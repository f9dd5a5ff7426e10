/** `privacy`: what is stored, for how long, and how to delete it. */
import type { Command } from './context.ts';

export const privacy: Command<void> = {
  name: 'privacy',
  description: 'What I keep about you, for how long, and how to delete it.',
  options: [],
  async run(ctx, _caller, _input, send) {
    const days = ctx.config.cache.ttlDays;
    const minutes = ctx.config.privacy.keepPhotosMinutes;
    const photos =
      minutes > 0
        ? `• Your photo itself for ${minutes} minute${minutes === 1 ? '' : 's'} after you send ` +
          'it, so `whole-photo` can paste a result back into it without a new upload; then it ' +
          'is deleted. Only your own requests can use it.'
        : '• Never your photos: a photo is read in memory, turned into a face code (the ' +
          'numbers the model works from) and dropped. A whole photo needs the photo attached.';
    const text = [
      'What I keep:',
      photos,
      '• The face code and where the face was in the photo (its outline points), under a hash ' +
        'of the photo, so a re-roll needs no new upload. The same for a style image you send.',
      '• A record of each result: who asked, where, the style and options, and the hash of the ' +
        'photo (no image, no link).',
      `How long: face codes and records ${days} day${days === 1 ? '' : 's'}; then they are ` +
        'deleted automatically.',
      'How to delete: `forget` deletes your face codes and any photo I still keep at once, ' +
        'and removes the photo hashes from your records (re-rolling those then needs the photo ' +
        'again); `delete` on a result removes its record and the photo kept for it. Images ' +
        "posted in the chat are the chat's: delete those there.",
    ].join('\n');
    await send({ kind: 'info', text });
  },
};
