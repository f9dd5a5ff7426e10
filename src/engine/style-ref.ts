/**
 * Style references: a short text that names a style and reads back to the same style, so a
 * result's style goes onto another photo. Every surface prints and accepts the same form:
 *
 * - `cartoon:26` — exemplar 26 of the cartoon pack (a file name works too: `cartoon:Cartoons_00038_07`)
 * - `cartoon:random:1a2b3c:4d5e6f` — a sampled style by its structure and colour seeds
 *   (`cartoon:random:1a2b3c` uses one seed for both, the reference's shared draw)
 * - `cartoon:image:<sha256>` — an exemplar image someone sent, while its code is cached
 * - `cartoon:26+random:1a2b3c:4d5e6f@0.3` — a fusion of two of the above at a ratio
 * - `result:<job id>` — whatever style that result used (the command layer looks it up)
 *
 * Names and seeds are percent-encoded, so any string survives the trip.
 */
import { UserError } from './errors.ts';
import type { StyleChoice, StylePart } from './request.ts';

/** A style a reference can name: every {@link StyleChoice} but raw image bytes. */
export type ReferableStyle = Exclude<StyleChoice, { kind: 'image' }>;

export type StyleReference =
  { kind: 'style'; style: ReferableStyle } | { kind: 'result'; jobId: string };

export interface ParseOptions {
  /** Seeds for a `random` part given without any; without this, seeds are required. */
  newSeed?: () => string;
}

const RESULT = 'result';
const DEFAULT_RATIO = 0.5;
const KEYWORDS = new Set(['random', 'image']);

/**
 * Reads a style reference; `bad-style-ref` when it is not one. Exemplar names are not checked
 * against the pack here (the engine does that).
 *
 * @example
 * parseStyleRef('cartoon:26+random:a:b@0.25');
 * // { kind: 'style', style: { kind: 'blend', pack: 'cartoon', a: {…}, b: {…}, ratio: 0.25 } }
 */
export function parseStyleRef(text: string, options: ParseOptions = {}): StyleReference {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  if (colon <= 0) throw bad(text);
  const head = trimmed.slice(0, colon);
  const rest = trimmed.slice(colon + 1);
  if (head === RESULT) {
    if (!rest) throw bad(text);
    return { kind: 'result', jobId: decode(rest, text) };
  }
  const pack = decode(head, text);
  const [body, ratioText, extra] = rest.split('@');
  if (body === undefined || extra !== undefined) throw bad(text);
  const parts = body.split('+').map((p) => parsePart(p, text, options));
  if (parts.length === 1 && ratioText === undefined)
    return { kind: 'style', style: single(pack, parts[0]!) };
  if (parts.length !== 2) throw bad(text);
  const ratio = ratioText === undefined ? DEFAULT_RATIO : Number(ratioText);
  if (ratioText === '' || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) throw bad(text);
  return { kind: 'style', style: { kind: 'blend', pack, a: parts[0]!, b: parts[1]!, ratio } };
}

/**
 * The reference of a style: `parseStyleRef(formatStyleRef(s))` gives `s` back (exemplar names
 * stay names; ids stay ids).
 */
export function formatStyleRef(style: ReferableStyle): string {
  const pack = encodeURIComponent(style.pack);
  if (style.kind === 'blend') {
    return `${pack}:${formatPart(style.a)}+${formatPart(style.b)}@${String(style.ratio)}`;
  }
  return `${pack}:${formatPart(style)}`;
}

/** A single (not fused) style without its pack: one side of a blend. */
export function partOf(style: Exclude<ReferableStyle, { kind: 'blend' }>): StylePart {
  switch (style.kind) {
    case 'exemplar':
      return {
        kind: 'exemplar',
        ...(style.exemplar !== undefined && { exemplar: style.exemplar }),
      };
    case 'sampled':
      return { kind: 'sampled', structureSeed: style.structureSeed, colorSeed: style.colorSeed };
    case 'cached-image':
      return { kind: 'cached-image', key: style.key };
  }
}

/** The reference to a result's style by its job id. */
export function resultRef(jobId: string): string {
  return `${RESULT}:${encodeURIComponent(jobId)}`;
}

function formatPart(part: StylePart): string {
  switch (part.kind) {
    case 'exemplar': {
      const id = part.exemplar ?? 0;
      if (typeof id === 'number') return String(id);
      // A name that is a keyword gets its first letter escaped, so it reads back as a name.
      const name = encodeURIComponent(id);
      return KEYWORDS.has(name) ? `%${name.charCodeAt(0).toString(16)}${name.slice(1)}` : name;
    }
    case 'sampled': {
      const s = encodeURIComponent(part.structureSeed);
      return part.structureSeed === part.colorSeed
        ? `random:${s}`
        : `random:${s}:${encodeURIComponent(part.colorSeed)}`;
    }
    case 'cached-image':
      return `image:${encodeURIComponent(part.key)}`;
  }
}

function parsePart(text: string, whole: string, options: ParseOptions): StylePart {
  const atoms = text.split(':');
  const [first, ...args] = atoms;
  if (!first) throw bad(whole);
  if (first === 'random') {
    if (args.length > 2 || args.some((a) => !a)) throw bad(whole);
    let [structure, colour] = args.map((a) => decode(a, whole));
    if (structure === undefined) {
      if (!options.newSeed) throw bad(whole);
      structure = options.newSeed();
      colour = options.newSeed();
    }
    return { kind: 'sampled', structureSeed: structure, colorSeed: colour ?? structure };
  }
  if (first === 'image') {
    if (args.length !== 1 || !args[0]) throw bad(whole);
    return { kind: 'cached-image', key: decode(args[0], whole) };
  }
  if (args.length > 0) throw bad(whole);
  const name = decode(first, whole);
  return { kind: 'exemplar', exemplar: /^\d+$/.test(name) ? Number(name) : name };
}

function single(pack: string, part: StylePart): ReferableStyle {
  return { ...part, pack };
}

function decode(atom: string, whole: string): string {
  try {
    return decodeURIComponent(atom);
  } catch {
    throw bad(whole);
  }
}

function bad(text: string): UserError {
  return new UserError('bad-style-ref', text.slice(0, 200));
}
