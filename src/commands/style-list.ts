/** `style list`: the installed packs, a pack's exemplars, and their contact sheet. */
import type { StyleInfo } from '../engine/index.ts';
import { SHEET_PAGE } from './contact-sheet.ts';
import { pickPack, type Command } from './context.ts';

export const styleList: Command<{ pack?: string; page?: number }> = {
  name: 'style list',
  description: 'The styles and their exemplars, with a picture of each exemplar.',
  options: [
    { name: 'pack', type: 'string', description: 'The style to show (default: the default one)' },
    { name: 'page', type: 'integer', description: `Page of ${SHEET_PAGE} exemplars`, min: 1 },
  ],
  async run(ctx, _caller, input, send) {
    const pack = pickPack(ctx, input.pack);
    const sheet = await ctx.sheets.page(pack, (input.page ?? 1) - 1);
    const names = pack.exemplars
      .slice(sheet.first, sheet.last + 1)
      .map((name, i) => `${sheet.first + i} ${name}`);
    const lines = [
      ...(input.pack ? [] : [installed(ctx.engine.styles()), '']),
      describe(pack),
      `Exemplars ${sheet.first}–${sheet.last}, shown in the picture in this order, left to right ` +
        `and top to bottom, ${sheet.columns} per row, each numbered with its id:`,
      names.join(' · '),
    ];
    if (sheet.pages > 1) {
      lines.push(`Page ${sheet.page + 1} of ${sheet.pages}: ask for another page for the rest.`);
    }
    await send({ kind: 'info', text: lines.join('\n'), image: sheet.image });
  },
};

function installed(styles: readonly StyleInfo[]): string {
  const list = styles.map((s) => `${s.name} (${s.exemplars.length})`).join(', ');
  return `Installed styles (exemplars): ${list}.`;
}

function describe(pack: StyleInfo): string {
  const d = pack.defaults;
  const weights = d.perSlot
    ? `per-slot weights ${d.perSlot.join(', ')}`
    : `structure ${d.structure}, colour ${d.color}`;
  const parts = [
    `${pack.name}: ${pack.exemplars.length} exemplars, ${pack.size} px.`,
    `Default weights: ${weights}, truncation ${d.truncation}.`,
    pack.hasSampler ? 'Random styles: yes.' : 'Random styles: no (no sampler).',
    pack.demo ? 'Demo pack: random weights, not real portraits.' : '',
    `Licence: ${pack.licence}`,
  ];
  return parts.filter(Boolean).join(' ');
}
