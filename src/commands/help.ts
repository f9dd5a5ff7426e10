/** `help`: the commands, from their own metadata, and the buttons under a result. */
import type { Command } from './context.ts';

export const help: Command<void> = {
  name: 'help',
  description: 'What I can do.',
  options: [],
  async run(ctx, _caller, _input, send) {
    const commands = ctx.catalogue.map((c) => `• ${c.name}: ${c.description}`);
    const text = [
      'I turn a photo of a face into a portrait in an artistic style (DualStyleGAN).',
      '',
      ...commands,
      '',
      'Under a result: 🎲 new style, 🧬 structure only, 🎨 colour only (🔁 also a new style).',
      photoLine(ctx.config.privacy.keepPhotosMinutes),
      'Use `privacy` to see what I keep and for how long.',
    ].join('\n');
    await send({ kind: 'info', text });
  },
};

/** Whether `whole-photo` works from an earlier photo, and for how long: a privacy setting. */
function photoLine(minutes: number): string {
  return minutes > 0
    ? `I keep your photo ${minutes} min after you send it, for \`whole-photo\`; then it is deleted.`
    : 'I never keep your photo: for a whole photo, attach it again.';
}
