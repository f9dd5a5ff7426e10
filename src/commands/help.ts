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
      'Use `privacy` to see what I keep and for how long.',
    ].join('\n');
    await send({ kind: 'info', text });
  },
};
