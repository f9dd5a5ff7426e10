/**
 * The words after `/stylize` or `@Pastiche`: `[style[:exemplar] | style reference]
 * [structure=0.7] [colour=0.5] [preserve] [size=256] [whole] [all-faces] [preset=colour-only]
 * [truncation=0.7] [reconstruct] [encoder=identity]`, read once into typed options.
 */
import type { StylizeInput } from '../../commands/index.ts';
import {
  encoderChoice,
  type EncoderChoice,
  WEIGHT_PRESETS,
  type WeightPreset,
} from '../../engine/index.ts';
import { SlackUserError } from './errors.ts';

export type TextOptions = Omit<StylizeInput, 'photo' | 'styleImage'>;

const PRESERVE = new Set(['preserve', 'preserve-color', 'preserve-colour', 'preserve_color']);
/** Words that switch something on, as they may be typed. */
const FLAGS: Readonly<Record<string, 'wholePhoto' | 'allFaces' | 'reconstruct'>> = {
  whole: 'wholePhoto',
  'whole-photo': 'wholePhoto',
  whole_photo: 'wholePhoto',
  'all-faces': 'allFaces',
  all_faces: 'allFaces',
  reconstruct: 'reconstruct',
};
const PRESETS = Object.keys(WEIGHT_PRESETS) as WeightPreset[];

/**
 * @throws {SlackUserError} `bad-text`, naming the word it could not read.
 * @example parseStyleText('<@U1> cartoon:26 colour=0.5') // { pack: 'cartoon', exemplar: 26, color: 0.5 }
 */
export function parseStyleText(text: string): TextOptions {
  const options: TextOptions = {};
  // Mentions (`<@U123>`) are how the message addressed the bot, not options.
  const words = text
    .replace(/<@[A-Z0-9]+(\|[^>]*)?>/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
  for (const word of words) {
    const [key, value] = splitOption(word);
    const flag = value === undefined ? FLAGS[key.toLowerCase()] : undefined;
    if (value === undefined && PRESERVE.has(key.toLowerCase())) options.preserveColor = true;
    else if (flag) options[flag] = true;
    else if (key === 'faces' && value === 'all') options.allFaces = true;
    else if (key === 'preset') options.preset = oneOf('preset', value, PRESETS);
    else if (key === 'truncation') options.truncation = unit(key, value);
    else if (key === 'encoder')
      options.encoder = oneOf<EncoderChoice>(key, value, encoderChoice.options);
    else if (value === undefined && options.pack === undefined) Object.assign(options, style(key));
    else if (key === 'structure') options.structure = unit(key, value);
    else if (key === 'color' || key === 'colour') options.color = unit('colour', value);
    else if (key === 'size') options.size = pixels(value);
    else if ((key === 'style' || key === 'pack') && value) Object.assign(options, style(value));
    else throw new SlackUserError('bad-text', `I don't understand "${word}".`);
  }
  return options;
}

function splitOption(word: string): [string, string | undefined] {
  const at = word.indexOf('=');
  return at < 0 ? [word, undefined] : [word.slice(0, at).toLowerCase(), word.slice(at + 1)];
}

/**
 * `cartoon`, `cartoon:26`, `cartoon:random`, `cartoon:name.jpg`; any other style reference a
 * result printed (`cartoon:random:a:b`, `cartoon:1+2@0.3`, `result:<id>`) as it is.
 */
function style(token: string): Pick<TextOptions, 'pack' | 'exemplar' | 'style'> {
  const at = token.indexOf(':');
  if (at < 0) return { pack: token };
  if (/[:+@]/.test(token.slice(at + 1)) || token.startsWith('result:')) return { style: token };
  const exemplar = token.slice(at + 1);
  return {
    pack: token.slice(0, at),
    exemplar: /^\d+$/.test(exemplar) ? Number(exemplar) : exemplar,
  };
}

function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T {
  const value = raw?.toLowerCase();
  if (!(allowed as readonly (string | undefined)[]).includes(value)) {
    throw new SlackUserError(
      'bad-text',
      `${name} must be one of ${allowed.join(', ')}, not "${raw ?? ''}".`,
    );
  }
  return value as T;
}

function unit(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (raw === undefined || raw === '' || !(n >= 0 && n <= 1)) {
    throw new SlackUserError(
      'bad-text',
      `${name} must be a number from 0 to 1, not "${raw ?? ''}".`,
    );
  }
  return n;
}

function pixels(raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    throw new SlackUserError(
      'bad-text',
      `size must be a whole number of pixels, not "${raw ?? ''}".`,
    );
  }
  return n;
}
