/**
 * The `/stylize` modal: a photo (an upload, or one the user just shared), the style as two
 * type-ahead selects (pack, exemplar), a style reference or an own exemplar image instead,
 * structure, colour, preset, truncation, "keep my colours", the encoder, and what to make (whole
 * photo, every face, the reconstruction). Building it and reading a submission back are pure
 * functions; the listeners are in `modal-listeners.ts`.
 */
import type { types, ViewOutput } from '@slack/bolt';
import { z } from 'zod';
import type { StyleInfo, StylizeInput } from '../../commands/index.ts';
import {
  encoderChoice,
  type EncoderChoice,
  WEIGHT_PRESETS,
  weightPreset,
  type WeightPreset,
} from '../../engine/index.ts';
import type { PhotoRef, SlackFile } from './photos.ts';

export const MODAL_ID = 'pastiche_stylize';
/** Block ids, also the action ids of their single element. */
export const FIELD = {
  offered: 'offered',
  photo: 'photo',
  pack: 'pack',
  exemplar: 'exemplar',
  structure: 'structure',
  color: 'color',
  preserve: 'preserve',
  styleRef: 'style_ref',
  styleImage: 'style_image',
  output: 'output',
  preset: 'preset',
  truncation: 'truncation',
  encoder: 'encoder',
} as const;

/** The `output` checkboxes' values. */
const OUTPUT = { whole: 'whole', allFaces: 'all-faces', reconstruct: 'reconstruct' } as const;

const ENCODER_WORDS: Readonly<Record<EncoderChoice, string>> = {
  identity: 'Identity: keeps more of my face',
  style: 'Style: the model’s own encoder',
};

/** What Slack lets a plain-text input hold; a reference is far shorter. */
const MAX_REFERENCE = 300;

/** Slack shows at most 100 options, each at most 75 characters. */
const MAX_OPTIONS = 100;
const MAX_TEXT = 75;

const photoRef = z.object({ url: z.string(), name: z.string() });
const modalMeta = z.object({
  channel: z.string(),
  threadTs: z.string().optional(),
  responseUrl: z.string().optional(),
  /** A photo to offer: the one shared in the channel lately, or the shortcut's message's. */
  offered: photoRef.extend({ label: z.string() }).optional(),
  size: z.number().int().positive().optional(),
});
/** What the modal carries from where it was opened to its submission (`private_metadata`). */
export type ModalMeta = z.infer<typeof modalMeta>;

/** What the modal starts with: the options typed after `/stylize`. */
export interface ModalInitial {
  pack?: StyleInfo;
  exemplar?: number;
  structure?: number;
  color?: number;
  preserveColor?: boolean;
  /** A style reference a result printed, which wins over pack and exemplar. */
  style?: string;
  wholePhoto?: boolean;
  allFaces?: boolean;
  reconstruct?: boolean;
  preset?: WeightPreset;
  truncation?: number;
  encoder?: EncoderChoice;
}

const plain = (text: string): types.PlainTextElement => ({ type: 'plain_text', text });
const option = (text: string, value: string): types.PlainTextOption => ({
  text: plain(text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text),
  value,
});

const packOption = (pack: StyleInfo): types.PlainTextOption =>
  option(`${pack.name} (${pack.exemplars.length} exemplars)`, pack.name);

/** Values carry the pack (`cartoon:26`), so a submission knows which pack the id belongs to. */
const exemplarOption = (pack: StyleInfo, id: number, withPack = false): types.PlainTextOption =>
  option(`${withPack ? `${pack.name} ` : ''}${id} · ${pack.exemplars[id]}`, `${pack.name}:${id}`);

/** Packs whose name contains what was typed. */
export function packOptions(styles: readonly StyleInfo[], query: string): types.PlainTextOption[] {
  const q = query.trim().toLowerCase();
  return styles
    .filter((s) => s.name.includes(q))
    .slice(0, MAX_OPTIONS)
    .map(packOption);
}

/** Exemplars of `pack` (of every pack when none is chosen) whose id or name matches. */
export function exemplarOptions(
  styles: readonly StyleInfo[],
  pack: string | undefined,
  query: string,
): types.PlainTextOption[] {
  const q = query.trim().toLowerCase();
  const packs = pack ? styles.filter((s) => s.name === pack) : styles;
  return packs
    .flatMap((s) =>
      s.exemplars.flatMap((name, id) =>
        !q || String(id) === q || name.toLowerCase().includes(q)
          ? [exemplarOption(s, id, !pack)]
          : [],
      ),
    )
    .slice(0, MAX_OPTIONS);
}

/** The modal's view for `views.open`. */
export function stylizeModal(meta: ModalMeta, initial: ModalInitial): types.ModalView {
  const yes = (text: string): types.Option[] => [{ text: { type: 'mrkdwn', text }, value: 'yes' }];
  const unitInput = (
    id: string,
    label: string,
    value: number | undefined,
    hint = '0 to 1; empty for the style’s default.',
  ): types.InputBlock => ({
    type: 'input',
    block_id: id,
    optional: true,
    label: plain(label),
    element: {
      type: 'number_input',
      action_id: id,
      is_decimal_allowed: true,
      min_value: '0',
      max_value: '1',
      ...(value !== undefined && { initial_value: String(value) }),
    },
    hint: plain(hint),
  });
  const optionsOf = (values: readonly { text: string; value: string }[]): types.Option[] =>
    values.map(({ text, value }) => ({ text: { type: 'mrkdwn', text }, value }));
  const outputs = optionsOf([
    { text: '*Whole photo*: paste the portrait back into the photo', value: OUTPUT.whole },
    { text: '*Every face* of a group photo (whole photo)', value: OUTPUT.allFaces },
    {
      text: '*Reconstruction*: my face as the model captured it, no style',
      value: OUTPUT.reconstruct,
    },
  ]);
  const outputsOn = outputs.filter(
    (o) =>
      (o.value === OUTPUT.whole && initial.wholePhoto) ||
      (o.value === OUTPUT.allFaces && initial.allFaces) ||
      (o.value === OUTPUT.reconstruct && initial.reconstruct),
  );
  const presets = (Object.keys(WEIGHT_PRESETS) as WeightPreset[]).map((name) =>
    option(`${name}: ${WEIGHT_PRESETS[name].description}`, name),
  );
  const encoders = encoderChoice.options.map((name) => option(ENCODER_WORDS[name], name));
  const blocks: types.KnownBlock[] = [];
  if (meta.offered) {
    const offer = yes(`Use ${meta.offered.label}`);
    blocks.push({
      type: 'input',
      block_id: FIELD.offered,
      optional: true,
      label: plain('Photo'),
      element: {
        type: 'checkboxes',
        action_id: FIELD.offered,
        options: offer,
        initial_options: offer,
      },
    });
  }
  const { pack, exemplar } = initial;
  blocks.push(
    {
      type: 'input',
      block_id: FIELD.photo,
      optional: true,
      label: plain(meta.offered ? 'Or upload another photo' : 'Photo'),
      element: {
        type: 'file_input',
        action_id: FIELD.photo,
        filetypes: ['jpg', 'jpeg', 'png', 'webp'],
        max_files: 1,
      },
      hint: plain('A photo with a face. Without one I use the last photo you sent me.'),
    },
    {
      type: 'input',
      block_id: FIELD.pack,
      optional: true,
      label: plain('Style'),
      element: {
        type: 'external_select',
        action_id: FIELD.pack,
        min_query_length: 0,
        placeholder: plain('Type to search the styles'),
        ...(pack && { initial_option: packOption(pack) }),
      },
    },
    {
      type: 'input',
      block_id: FIELD.exemplar,
      optional: true,
      label: plain('Exemplar'),
      element: {
        type: 'external_select',
        action_id: FIELD.exemplar,
        min_query_length: 0,
        placeholder: plain('Type a name or number'),
        ...(pack && exemplar !== undefined && pack.exemplars[exemplar] !== undefined
          ? { initial_option: exemplarOption(pack, exemplar) }
          : {}),
      },
      hint: plain('Empty for the style’s first exemplar. `/style list` shows them all.'),
    },
    {
      type: 'input',
      block_id: FIELD.styleRef,
      optional: true,
      label: plain('Or a style reference'),
      element: {
        type: 'plain_text_input',
        action_id: FIELD.styleRef,
        max_length: MAX_REFERENCE,
        placeholder: plain('cartoon:26, cartoon:random:1a2b:3c4d, result:…'),
        ...(initial.style && { initial_value: initial.style.slice(0, MAX_REFERENCE) }),
      },
      hint: plain('The style: line under a result. It wins over the style and exemplar above.'),
    },
    {
      type: 'input',
      block_id: FIELD.styleImage,
      optional: true,
      label: plain('Or my own exemplar image'),
      element: {
        type: 'file_input',
        action_id: FIELD.styleImage,
        filetypes: ['jpg', 'jpeg', 'png', 'webp'],
        max_files: 1,
      },
      hint: plain('A portrait whose style to take, instead of an exemplar of the style.'),
    },
    unitInput(FIELD.structure, 'Structure', initial.structure),
    unitInput(FIELD.color, 'Colour', initial.color),
    {
      type: 'input',
      block_id: FIELD.preset,
      optional: true,
      label: plain('Weight preset'),
      element: {
        type: 'static_select',
        action_id: FIELD.preset,
        placeholder: plain('Structure and colour as set above'),
        options: presets,
        ...(initial.preset && {
          initial_option: presets.find((o) => o.value === initial.preset),
        }),
      },
    },
    unitInput(
      FIELD.truncation,
      'Truncation',
      initial.truncation,
      '0 is closer to the average face, 1 to yours; empty for the style’s default.',
    ),
    {
      type: 'input',
      block_id: FIELD.preserve,
      optional: true,
      label: plain('Colours'),
      element: {
        type: 'checkboxes',
        action_id: FIELD.preserve,
        options: yes('Keep the photo’s own colours'),
        ...(initial.preserveColor && { initial_options: yes('Keep the photo’s own colours') }),
      },
    },
    {
      type: 'input',
      block_id: FIELD.encoder,
      optional: true,
      label: plain('Encoder'),
      element: {
        type: 'radio_buttons',
        action_id: FIELD.encoder,
        options: encoders,
        ...(initial.encoder && {
          initial_option: encoders.find((o) => o.value === initial.encoder),
        }),
      },
      hint: plain('Empty for the server’s default.'),
    },
    {
      type: 'input',
      block_id: FIELD.output,
      optional: true,
      label: plain('Make'),
      element: {
        type: 'checkboxes',
        action_id: FIELD.output,
        options: outputs,
        ...(outputsOn.length > 0 && { initial_options: outputsOn }),
      },
    },
  );
  return {
    type: 'modal',
    callback_id: MODAL_ID,
    title: plain('Stylize a photo'),
    submit: plain('Stylize'),
    close: plain('Cancel'),
    private_metadata: JSON.stringify(meta),
    blocks,
  };
}

/**
 * A submission, read back: where to answer, the photo offered, the files uploaded (read with
 * `files.info` where Slack sent only their ids), and the command's input.
 */
export interface ModalSubmission {
  meta: ModalMeta;
  /** The photo offered and kept ticked, if no other was uploaded. */
  offered?: PhotoRef;
  photoFiles?: SlackFile[];
  styleImageFiles?: SlackFile[];
  input: Omit<StylizeInput, 'photo' | 'styleImage'>;
}

/**
 * Reads a submitted view. Returns `errors` (by block id) for Slack to show in the modal.
 */
export function readModal(
  view: ViewOutput,
): { submission: ModalSubmission } | { errors: Record<string, string> } {
  const meta = modalMeta.parse(JSON.parse(view.private_metadata || '{}'));
  const value = (id: string) => view.state.values[id]?.[id];
  const checked = (id: string) => (value(id)?.selected_options ?? []).length > 0;
  const number = (id: string) => {
    const raw = value(id)?.value;
    return raw ? Number(raw) : undefined;
  };
  const files = (id: string) => {
    const list = value(id)?.files as SlackFile[] | undefined;
    return list?.length ? list : undefined;
  };
  const photoFiles = files(FIELD.photo);
  const styleImageFiles = files(FIELD.styleImage);
  const offered = !photoFiles && meta.offered && checked(FIELD.offered) ? meta.offered : undefined;
  const chosenPack = value(FIELD.pack)?.selected_option?.value;
  const exemplar = exemplarValue(value(FIELD.exemplar)?.selected_option?.value);
  if (chosenPack && exemplar && chosenPack !== exemplar.pack) {
    const error = `That exemplar is from ${exemplar.pack}: pick one of ${chosenPack}.`;
    return { errors: { [FIELD.exemplar]: error } };
  }
  const pack = chosenPack ?? exemplar?.pack;
  const structure = number(FIELD.structure);
  const color = number(FIELD.color);
  const truncation = number(FIELD.truncation);
  const outputs = new Set((value(FIELD.output)?.selected_options ?? []).map((o) => o.value));
  const reference = value(FIELD.styleRef)?.value?.trim();
  const preset = weightPreset.safeParse(value(FIELD.preset)?.selected_option?.value);
  const encoder = encoderChoice.safeParse(value(FIELD.encoder)?.selected_option?.value);
  const input: ModalSubmission['input'] = {
    ...(pack && { pack }),
    ...(exemplar && { exemplar: exemplar.id }),
    ...(structure !== undefined && { structure }),
    ...(color !== undefined && { color }),
    ...(checked(FIELD.preserve) && { preserveColor: true }),
    ...(meta.size !== undefined && { size: meta.size }),
    ...(reference && { style: reference }),
    ...(truncation !== undefined && { truncation }),
    ...(preset.success && { preset: preset.data }),
    ...(encoder.success && { encoder: encoder.data }),
    ...(outputs.has(OUTPUT.whole) && { wholePhoto: true }),
    ...(outputs.has(OUTPUT.allFaces) && { allFaces: true }),
    ...(outputs.has(OUTPUT.reconstruct) && { reconstruct: true }),
  };
  return {
    submission: {
      meta,
      ...(offered && { offered: { url: offered.url, name: offered.name } }),
      ...(photoFiles && { photoFiles }),
      ...(styleImageFiles && { styleImageFiles }),
      input,
    },
  };
}

/** `cartoon:26` → `{ pack: 'cartoon', id: 26 }` (pack names have no colon). */
function exemplarValue(value: string | undefined): { pack: string; id: number } | undefined {
  const match = value ? /^([^:]+):(\d+)$/.exec(value) : null;
  return match ? { pack: match[1]!, id: Number(match[2]) } : undefined;
}
