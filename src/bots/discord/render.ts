/**
 * Replies → Discord messages: the status line with its Cancel button, the result with its image
 * and re-roll buttons, info as an embed (help is longer than a message's 2000 characters).
 */
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  EmbedBuilder,
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type APIEmbed,
} from 'discord.js';
import type { Reply } from '../../commands/index.ts';
import type { EncodedImage } from '../../engine/index.ts';
import { buttonId, type ButtonAction, type MessageRef } from './ids.ts';

/** A whole message: every field set, so an edit replaces what the message showed before. */
export interface Outgoing {
  content: string;
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIComponentInMessageActionRow>[];
  files: AttachmentBuilder[];
}

type Of<K extends Reply['kind']> = Extract<Reply, { kind: K }>;

const CONTENT_MAX = 2000;
const EMBED_MAX = 4096;
const clip = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

const EXTENSIONS: Record<EncodedImage['format'], string> = {
  jpeg: 'jpg',
  webp: 'webp',
  png: 'png',
};

function row(
  buttons: { action: ButtonAction; emoji: string; label: string; style?: ButtonStyle }[],
): APIActionRowComponent<APIComponentInMessageActionRow> {
  return new ActionRowBuilder<ButtonBuilder>()
    .addComponents(
      buttons.map((b) =>
        new ButtonBuilder()
          .setCustomId(buttonId(b.action))
          .setEmoji(b.emoji)
          .setLabel(b.label)
          .setStyle(b.style ?? ButtonStyle.Secondary),
      ),
    )
    .toJSON();
}

export function textMessage(text: string): Outgoing {
  return { content: clip(text, CONTENT_MAX), embeds: [], components: [], files: [] };
}

/** The status line with its Cancel button, and the job's preview picture when it has one. */
export function statusMessage(reply: Of<'status'>): Outgoing {
  const cancel = { kind: 'cancel', jobId: reply.jobId } as const;
  const { preview } = reply;
  const name = preview && `preview-${reply.jobId}.${EXTENSIONS[preview.format]}`;
  return {
    ...textMessage(`⏳ ${reply.text}`),
    files: preview && name ? [new AttachmentBuilder(Buffer.from(preview.bytes), { name })] : [],
    components: [
      row([{ action: cancel, emoji: '✖️', label: 'Cancel', style: ButtonStyle.Danger }]),
    ],
  };
}

/** Discord allows 5 buttons to a row. */
const ROW_MAX = 5;

/**
 * `image` is the reply's, possibly re-encoded to fit the upload limit. `source`: the message the
 * photo came from, for the whole-photo button to fetch it again.
 */
export function resultMessage(
  reply: Of<'result'>,
  image: EncodedImage,
  source?: MessageRef,
): Outgoing {
  const { jobId, params } = reply;
  const name = `pastiche-${jobId}.${EXTENSIONS[image.format]}`;
  const remove = {
    action: { kind: 'delete', jobId },
    emoji: '🗑️',
    label: 'Delete',
    style: ButtonStyle.Danger,
  } as const;
  let components: Outgoing['components'];
  if (params.tiles) {
    // A grid or strip: keep one of its pictures at full size.
    const keep = Array.from({ length: params.tiles }, (_, k) => ({
      action: { kind: 'pick', tile: k + 1, jobId } as const,
      emoji: '🔍',
      label: String(k + 1),
    }));
    components = [];
    for (let k = 0; k < keep.length; k += ROW_MAX) components.push(row(keep.slice(k, k + ROW_MAX)));
    components.push(row([remove]));
  } else {
    components = [
      row([
        { action: { kind: 'reroll', mode: 'style', jobId }, emoji: '🎲', label: 'New style' },
        { action: { kind: 'reroll', mode: 'structure', jobId }, emoji: '🧬', label: 'Structure' },
        { action: { kind: 'reroll', mode: 'color', jobId }, emoji: '🎨', label: 'Colour' },
        { action: { kind: 'reroll', mode: 'fuse', jobId }, emoji: '🔀', label: 'Fuse' },
        remove,
      ]),
    ];
    // A crop of a photo can become the whole photo; a pasted one or a random face cannot.
    if (params.faces === undefined && !params.randomFace) {
      const whole = { kind: 'whole', jobId, ...(source && { source }) } as const;
      components.push(row([{ action: whole, emoji: '🖼️', label: 'Whole photo' }]));
    }
  }
  return {
    ...textMessage(reply.text),
    files: [new AttachmentBuilder(Buffer.from(image.bytes), { name })],
    components,
  };
}

export function infoMessage(reply: Of<'info'>): Outgoing {
  const embed = new EmbedBuilder().setDescription(clip(reply.text, EMBED_MAX));
  const files: AttachmentBuilder[] = [];
  if (reply.image) {
    const name = `sheet.${EXTENSIONS[reply.image.format]}`;
    files.push(new AttachmentBuilder(Buffer.from(reply.image.bytes), { name }));
    embed.setImage(`attachment://${name}`);
  }
  return { content: '', embeds: [embed.toJSON()], components: [], files };
}
