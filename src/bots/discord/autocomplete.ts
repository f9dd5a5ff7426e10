/**
 * Autocomplete for `style`, `exemplar`, `size` and a blend's `a` and `b`, from the installed packs
 * in memory: Discord wants the answer within 3 s and it cannot be deferred, so no I/O here.
 */
import type { ApplicationCommandOptionChoiceData, AutocompleteInteraction } from 'discord.js';
import type { StyleInfo } from '../../commands/index.ts';
import { allowedSizes } from '../../engine/index.ts';
import { OPTIONS } from './definitions.ts';

/** Discord shows at most 25 choices of at most 100 characters. */
const MAX_CHOICES = 25;
const clip = (s: string): string => (s.length <= 100 ? s : `${s.slice(0, 99)}…`);

type Choice = ApplicationCommandOptionChoiceData<string | number>;

/** The pack the other options name, else the default, else the first (as the commands pick). */
function packOf(
  styles: readonly StyleInfo[],
  name: string | null,
  fallback: string,
): StyleInfo | undefined {
  return (
    styles.find((s) => s.name === name) ?? styles.find((s) => s.name === fallback) ?? styles[0]
  );
}

function styleChoices(styles: readonly StyleInfo[], query: string): Choice[] {
  const q = query.trim().toLowerCase();
  return styles
    .filter((s) => s.name.toLowerCase().includes(q))
    .map((s) => {
      const notes = [
        `${s.exemplars.length} exemplars`,
        s.hasSampler ? 'random styles' : '',
        s.demo ? 'demo' : '',
      ];
      return { name: clip(`${s.name} (${notes.filter(Boolean).join(', ')})`), value: s.name };
    });
}

/**
 * Style references once the text has a colon: `pack:` lists `pack:random` and the pack's
 * exemplars as `pack:<id>`; anything else (a fused style, `result:<id>`) is offered as typed.
 * Discord takes any text an autocomplete option is given, so a long reference still works.
 */
function referenceChoices(styles: readonly StyleInfo[], query: string): Choice[] {
  const text = query.trim();
  const colon = text.indexOf(':');
  const pack = styles.find((s) => s.name === text.slice(0, colon));
  const asTyped: Choice[] = text.length <= 100 ? [{ name: text, value: text }] : [];
  const rest = text.slice(colon + 1);
  if (!pack || /[:+@]/.test(rest)) return asTyped;
  const refs = exemplarChoices(pack, rest)
    .filter((c) => c.value !== 'random' || pack.hasSampler)
    .map((c) => ({
      name: clip(
        c.value === 'random' ? `${pack.name}:random (new sampled style)` : `${pack.name}:${c.name}`,
      ),
      value: `${pack.name}:${c.value}`,
    }))
    .filter((c) => c.value.length <= 100);
  return refs.some((c) => c.value === text) || !rest ? refs : [...asTyped, ...refs];
}

/** Exemplars whose id starts with, or whose name contains, the query; "random" first. */
function exemplarChoices(pack: StyleInfo, query: string): Choice[] {
  const q = query.trim().toLowerCase();
  const random: Choice[] = 'random'.startsWith(q)
    ? [{ name: 'random exemplar', value: 'random' }]
    : [];
  const matches = pack.exemplars.flatMap((name, id): Choice[] =>
    String(id).startsWith(q) || name.toLowerCase().includes(q)
      ? [{ name: clip(`${id} · ${name}`), value: String(id) }]
      : [],
  );
  return [...random, ...matches];
}

export async function answerAutocomplete(
  interaction: AutocompleteInteraction,
  styles: readonly StyleInfo[],
  defaultStyle: string,
): Promise<void> {
  const focused = interaction.options.getFocused(true);
  let choices: Choice[] = [];
  if (focused.name === OPTIONS.style) {
    choices = focused.value.includes(':')
      ? referenceChoices(styles, focused.value)
      : styleChoices(styles, focused.value);
  } else if (focused.name === OPTIONS.a || focused.name === OPTIONS.b) {
    // A bare id or name is an exemplar of the default style, as the command reads it.
    const pack = packOf(styles, null, defaultStyle);
    const query =
      focused.value.includes(':') || !pack ? focused.value : `${pack.name}:${focused.value}`;
    choices = referenceChoices(styles, query);
  } else if (focused.name === OPTIONS.exemplar) {
    const pack = packOf(styles, interaction.options.getString(OPTIONS.style), defaultStyle);
    choices = pack ? exemplarChoices(pack, focused.value) : [];
  } else if (focused.name === OPTIONS.size) {
    // The sizes the pack renders: its own, and downscales of it.
    const pack = packOf(styles, interaction.options.getString(OPTIONS.style), defaultStyle);
    const sizes = pack ? allowedSizes(pack.size) : [];
    choices = sizes
      .filter((s) => String(s).startsWith(focused.value.trim()))
      .map((s) => ({ name: `${s} px`, value: s }));
  }
  await interaction.respond(choices.slice(0, MAX_CHOICES));
}
